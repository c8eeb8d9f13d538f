"""Prometheus metrics of a model pool (``--metrics-port PORT``), for watching long runs from
Grafana or any Prometheus scraper.

Per role (labels ``role`` and ``model``): turns, failures, generated and prompt tokens, prompt
tokens served from the KV cache, generation seconds, time to first token, the last turn's
tokens/s and the worker's resident memory. Counters are fed by the engine's events on the event
loop; memory is read on the loop when Prometheus scrapes (the HTTP server runs in a thread).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import threading
from collections.abc import Iterable
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from ..errors import UsageError
from .types import PoolEvent

FAILURE_EVENTS = {"failed": "worker", "turn_failed": "turn", "load_failed": "load",
                  "swap_failed": "swap"}
TTFT_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


class PoolMetrics:
    """The metrics of one engine in their own registry; ``observe`` is the engine listener."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine
        self.registry = CollectorRegistry(auto_describe=True)
        labels = ["role", "model"]
        r = self.registry
        self.turns = Counter("logomesh_turns", "Turns finished", labels, registry=r)
        self.failures = Counter("logomesh_failures", "Failures (kind: worker, turn, load, swap)",
                                labels + ["kind"], registry=r)
        self.completion_tokens = Counter("logomesh_completion_tokens", "Tokens generated",
                                         labels, registry=r)
        self.prompt_tokens = Counter("logomesh_prompt_tokens", "Prompt tokens of finished turns",
                                     labels, registry=r)
        self.prompt_reused = Counter(
            "logomesh_prompt_tokens_reused",
            "Prompt tokens served from the KV cache instead of evaluated (local models)",
            labels, registry=r)
        self.generation_seconds = Counter("logomesh_turn_seconds", "Seconds spent in turns",
                                          labels, registry=r)
        self.ttft = Histogram("logomesh_time_to_first_token_seconds", "Time to first token",
                              labels, buckets=TTFT_BUCKETS, registry=r)
        self.tokens_per_s = Gauge("logomesh_tokens_per_second",
                                  "Generation speed of the role's last turn", labels, registry=r)
        self.kv_reuse = Gauge("logomesh_kv_reuse_ratio",
                              "Share of the last turn's prompt served from the KV cache",
                              labels, registry=r)
        self.registry.register(_MemoryCollector(engine))

    def observe(self, event: PoolEvent) -> None:
        """Engine listener: count what a finished or failed turn, load or swap reports."""
        labels = (event.role, event.model_id)
        if event.kind in FAILURE_EVENTS:
            self.failures.labels(*labels, FAILURE_EVENTS[event.kind]).inc()
            return
        if event.kind != "idle":
            return
        self.turns.labels(*labels).inc()
        if event.tokens_per_s is not None:
            self.tokens_per_s.labels(*labels).set(event.tokens_per_s)
        if event.completion_tokens:
            self.completion_tokens.labels(*labels).inc(event.completion_tokens)
        if event.seconds:
            self.generation_seconds.labels(*labels).inc(event.seconds)
        if event.time_to_first_token_s is not None:
            self.ttft.labels(*labels).observe(event.time_to_first_token_s)
        if event.prompt_tokens:
            self.prompt_tokens.labels(*labels).inc(event.prompt_tokens)
            if event.prompt_tokens_evaluated is not None:
                reused = max(0, event.prompt_tokens - event.prompt_tokens_evaluated)
                self.prompt_reused.labels(*labels).inc(reused)
                self.kv_reuse.labels(*labels).set(reused / event.prompt_tokens)


class _MemoryCollector(Collector):
    """Worker memory per role and the pool's budget, read on the engine's event loop at scrape
    time (the engine is not thread-safe); the last reading is kept if the loop does not answer."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine
        try:
            self.loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:  # an engine made outside a loop: read it from the scrape thread
            self.loop = None
        self._last: list[tuple[str, str, float]] = []
        self._budget = float(engine.config.memory_budget)

    def _read(self) -> list[tuple[str, str, float]]:
        models = {m.role: m.model_id for m in self.engine.get_active_models()}
        usage = self.engine.get_memory_usage()
        return [(role, models.get(role, ""), float(rss)) for role, rss in usage.per_role.items()]

    def collect(self) -> Iterable[GaugeMetricFamily]:
        if self.loop is None:
            with contextlib.suppress(Exception):
                self._last = self._read()
        elif not self.loop.is_closed():
            future: concurrent.futures.Future = concurrent.futures.Future()

            def read() -> None:
                try:
                    future.set_result(self._read())
                except Exception as exc:  # noqa: BLE001 - handed to the scraping thread
                    future.set_exception(exc)

            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                self.loop.call_soon_threadsafe(read)
                with contextlib.suppress(concurrent.futures.TimeoutError, Exception):
                    self._last = future.result(timeout=2.0)
        rss = GaugeMetricFamily("logomesh_memory_bytes", "Resident memory of the role's worker",
                                labels=["role", "model"])
        for role, model, value in self._last:
            rss.add_metric([role, model], value)
        yield rss
        yield GaugeMetricFamily("logomesh_memory_budget_bytes",
                                "Bytes all local workers together may use", value=self._budget)


_servers: dict[int, tuple[Any, threading.Thread]] = {}


def serve_metrics(engine: Any, port: int, addr: str = "127.0.0.1") -> PoolMetrics:
    """Serve ``engine``'s metrics at ``http://addr:port/metrics`` until the process ends or a
    later engine takes the port. Called on the engine's event loop, memory is read there."""
    metrics = PoolMetrics(engine)
    engine.add_listener(metrics.observe)
    old = _servers.pop(port, None)
    if old is not None:  # a later engine in the same process takes the port over
        old[0].shutdown()
        old[0].server_close()
    try:
        server, thread = start_http_server(port, addr=addr, registry=metrics.registry)
    except OSError as exc:
        raise UsageError(f"--metrics-port {port}: cannot listen on {addr}:{port} "
                         f"({exc.strerror or exc}); choose a free port") from None
    _servers[port] = (server, thread)
    return metrics


def stop_metrics(port: int) -> None:
    """Stop the metrics server on ``port``, if one runs."""
    entry = _servers.pop(port, None)
    if entry is not None:
        entry[0].shutdown()
        entry[0].server_close()
