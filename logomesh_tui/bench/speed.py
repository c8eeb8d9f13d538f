"""Speed and memory benchmarks (issue 7, parts 1-5). Each returns one JSON-able dict whose
numbers were measured in this run, next to the baseline they are compared with."""

from __future__ import annotations

import asyncio
import gc
import os
import statistics
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, cast

import psutil

from ..catalog import Catalog
from ..config import EngineConfig
from ..conversation.roles import SEED_ROLES
from ..pool.engine import HotSwapEngine
from ..pool.types import GenerationRequest, TokenCallback

PROMPT = ("Explain, step by step, how React's useEffect dependency array decides when an effect "
          "re-runs, and list three common mistakes.")
DEFAULT_POOL = ["smollm2-135m", "gemma-3-270m", "qwen2.5-coder-0.5b", "qwen2.5-coder-1.5b"]


def _request(max_tokens: int, prompt: str = PROMPT) -> GenerationRequest:
    return GenerationRequest(messages=[{"role": "user", "content": prompt}], max_tokens=max_tokens,
                             temperature=0.0, seed=1)


def _config(n_ctx: int, threads: int | None, **kw) -> EngineConfig:
    return EngineConfig(n_ctx=n_ctx, n_threads=threads or os.cpu_count() or 1, **kw)


def _stamper(sink: list[float]) -> TokenCallback:
    """A token callback that appends each token's arrival time to ``sink``."""
    return lambda _token: sink.append(time.perf_counter())


def _median(xs: list[float]) -> float:
    return statistics.median(xs) if xs else 0.0


def _pct(xs: list[float], p: float) -> float:
    if not xs:
        return 0.0
    s = sorted(xs)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]


def _bare_chat_format(catalog: Catalog, model: str) -> str | None:
    spec = catalog.get(model)
    if spec.chat_format:
        return spec.chat_format
    info = catalog.info(model)
    return None if info.has_chat_template else ("gemma" if info.arch.startswith("gemma") else "chatml")


# -- 1. overhead -------------------------------------------------------------------------------
def _bare_run(path: Path, chat_format: str | None, n_ctx: int, threads: int, max_tokens: int,
              repeats: int) -> dict:
    from llama_cpp import Llama

    llm = Llama(model_path=str(path), n_ctx=n_ctx, n_threads=threads, n_threads_batch=threads,
                chat_format=chat_format, verbose=False, seed=1)
    rates, ttfts, tokens = [], [], []
    for i in range(repeats + 1):
        llm.reset()  # no KV reuse between repeats: both sides evaluate the whole prompt
        t0 = time.perf_counter()
        first = None
        n = 0
        # stream=True returns an iterator of chunks (the declared type is a union with the reply)
        chunks = cast(Iterator[dict[str, Any]], llm.create_chat_completion(
            messages=[{"role": "user", "content": PROMPT}], max_tokens=max_tokens,
            temperature=0.0, seed=1, stream=True))
        for chunk in chunks:
            if chunk["choices"][0].get("delta", {}).get("content"):
                n += 1
                if first is None:
                    first = time.perf_counter()
        end = time.perf_counter()
        if i == 0:
            continue  # warm-up
        tokens.append(n)
        ttfts.append((first or end) - t0)
        rates.append((n - 1) / (end - first) if first and n > 1 else 0.0)
    llm.close()
    return {"tokens_per_s": _median(rates), "ttft_s": _median(ttfts), "tokens": tokens}


async def _stack_run(model: str, n_ctx: int, threads: int, max_tokens: int, repeats: int) -> dict:
    async with HotSwapEngine(_config(n_ctx, threads)) as engine:
        await engine.load_model(model, "bench")
        rates, ttfts, tokens = [], [], []
        for i in range(repeats + 1):
            # A different leading character each time defeats KV prefix reuse, as llm.reset() does.
            req = _request(max_tokens, PROMPT)
            req.messages = [{"role": "system", "content": f"Run {i}."}] + req.messages
            stamps: list[float] = []
            t0 = time.perf_counter()
            await engine.generate("bench", req, _stamper(stamps))
            end = time.perf_counter()
            if i == 0:
                continue
            tokens.append(len(stamps))
            ttfts.append((stamps[0] if stamps else end) - t0)
            rates.append((len(stamps) - 1) / (end - stamps[0]) if len(stamps) > 1 else 0.0)
    return {"tokens_per_s": _median(rates), "ttft_s": _median(ttfts), "tokens": tokens}


async def bench_overhead(model: str = "smollm2-135m", n_ctx: int = 2048, threads: int | None = None,
                         max_tokens: int = 128, repeats: int = 3) -> dict:
    """Whole stack (engine, worker process, JSON-lines streaming) versus bare llama-cpp-python."""
    threads = threads or os.cpu_count() or 1
    cat = Catalog.from_config(_config(n_ctx, threads))
    path = cat.path_for(cat.get(model))
    bare = await asyncio.to_thread(_bare_run, path, _bare_chat_format(cat, model), n_ctx, threads,
                                   max_tokens, repeats)
    gc.collect()
    stack = await _stack_run(model, n_ctx, threads, max_tokens, repeats)
    ratio = stack["tokens_per_s"] / bare["tokens_per_s"] if bare["tokens_per_s"] else 0.0
    return {"part": "overhead", "model": model, "n_ctx": n_ctx, "threads": threads,
            "max_tokens": max_tokens, "repeats": repeats,
            "bare_tokens_per_s": round(bare["tokens_per_s"], 2),
            "stack_tokens_per_s": round(stack["tokens_per_s"], 2),
            "throughput_ratio": round(ratio, 4),
            "bare_ttft_s": round(bare["ttft_s"], 4), "stack_ttft_s": round(stack["ttft_s"], 4),
            "ttft_difference_s": round(stack["ttft_s"] - bare["ttft_s"], 4),
            "tokens_generated": {"bare": bare["tokens"], "stack": stack["tokens"]},
            "target": "throughput_ratio >= 0.95", "met": ratio >= 0.95}


# -- 2. hot-swap -------------------------------------------------------------------------------
def _bare_load_s(path: Path, chat_format: str | None, n_ctx: int, threads: int) -> float:
    from llama_cpp import Llama

    t0 = time.perf_counter()
    llm = Llama(model_path=str(path), n_ctx=n_ctx, n_threads=threads, chat_format=chat_format,
                verbose=False)
    dt = time.perf_counter() - t0
    llm.close()
    return dt


async def bench_swap(models: list[str] | None = None, n_ctx: int = 2048, threads: int | None = None,
                     swaps: int = 6) -> dict:
    """Time from hot_swap() to the new model ready and to its first token, versus a bare load."""
    models = models or ["smollm2-135m", "qwen2.5-coder-0.5b"]
    threads = threads or os.cpu_count() or 1
    cfg = _config(n_ctx, threads)
    cat = Catalog.from_config(cfg)
    bare = {m: _median([await asyncio.to_thread(_bare_load_s, cat.path_for(cat.get(m)),
                                                _bare_chat_format(cat, m), n_ctx, threads)
                        for _ in range(2)]) for m in models}
    ready: dict[str, list[float]] = {m: [] for m in models}
    first: dict[str, list[float]] = {m: [] for m in models}
    async with HotSwapEngine(cfg) as engine:
        await engine.load_model(models[0], "documentation-writer")
        for i in range(swaps):
            target = models[(i + 1) % len(models)]
            t0 = time.perf_counter()
            await engine.hot_swap("documentation-writer", target)
            t_ready = time.perf_counter() - t0
            stamps: list[float] = []
            await engine.generate("documentation-writer", _request(8, "Say ok."),
                                  _stamper(stamps))
            ready[target].append(t_ready)
            first[target].append((stamps[0] if stamps else time.perf_counter()) - t0)
    per_model = {m: {"swap_ready_s": round(_median(ready[m]), 3),
                     "swap_first_token_s": round(_median(first[m]), 3),
                     "bare_load_s": round(bare[m], 3)} for m in models}
    worst = max(v["swap_ready_s"] for v in per_model.values())
    return {"part": "swap", "models": models, "swaps": swaps, "n_ctx": n_ctx, "per_model": per_model,
            "max_swap_ready_s": worst, "target": "swap ready < 3 s", "met": worst < 3.0}


# -- 3. memory per swap ------------------------------------------------------------------------
async def bench_memory(models: list[str] | None = None, swaps: int = 50, n_ctx: int = 1024) -> dict:
    """RSS growth of this (the dashboard's) process per swap, and system memory given back."""
    models = models or ["smollm2-135m", "gemma-3-270m"]
    proc = psutil.Process()
    gc.collect()
    sys_before = psutil.virtual_memory().available
    async with HotSwapEngine(_config(n_ctx, 1)) as engine:
        await engine.load_model(models[0], "r")
        await engine.hot_swap("r", models[1])  # first swap warms imports and caches
        gc.collect()
        rss0 = proc.memory_info().rss
        for i in range(swaps):
            await engine.hot_swap("r", models[i % 2])
        gc.collect()
        rss1 = proc.memory_info().rss
        workers = len(proc.children(recursive=True))
    await asyncio.sleep(0.5)
    sys_after = psutil.virtual_memory().available
    per_swap = (rss1 - rss0) / swaps
    return {"part": "memory", "models": models, "swaps": swaps,
            "dashboard_rss_growth_bytes": rss1 - rss0,
            "dashboard_rss_growth_per_swap_bytes": round(per_swap),
            "workers_while_loaded": workers,
            "workers_after_close": len(proc.children(recursive=True)),
            "system_available_before_bytes": sys_before, "system_available_after_bytes": sys_after,
            "system_available_delta_bytes": sys_after - sys_before,
            "target": "< 1 MB per swap, all memory returned",
            "met": per_swap < 1_000_000 and sys_after - sys_before > -50_000_000}


# -- 4. four models at once --------------------------------------------------------------------
async def bench_pool(models: list[str] | None = None, n_ctx: int = 2048, max_tokens: int = 128) -> dict:
    """The default pool loaded together: RSS vs file sizes vs estimates; a 128-token turn each."""
    models = models or DEFAULT_POOL
    roles = list(SEED_ROLES)
    # The engine's defaults: every core per worker; the orchestrator runs such turns one at a time.
    cfg = _config(n_ctx, None)
    cat = Catalog.from_config(cfg)
    per: dict[str, dict] = {}
    async with HotSwapEngine(cfg) as engine:
        t0 = time.perf_counter()
        for role, model in zip(roles, models, strict=False):
            per[role] = {"model": model, "estimate_bytes": cat.estimate_bytes(model, n_ctx),
                         "file_bytes": cat.path_for(cat.get(model)).stat().st_size}
            await engine.load_model(model, role)
        load_all_s = time.perf_counter() - t0
        for role in per:
            res = await engine.generate(role, _request(max_tokens))
            per[role].update(turn_s=round(res.timings.total_s, 3), tokens=res.completion_tokens,
                             tokens_per_s=round(res.tokens_per_s, 2))
        for info in engine.get_active_models():
            per[info.role]["rss_bytes"] = info.rss_bytes
    total_rss = sum(p["rss_bytes"] for p in per.values())
    worst = max(p["turn_s"] for p in per.values())
    return {"part": "pool", "n_ctx": n_ctx, "max_tokens": max_tokens, "per_role": per,
            "load_all_s": round(load_all_s, 2), "total_rss_bytes": total_rss,
            "sum_file_bytes": sum(p["file_bytes"] for p in per.values()),
            "sum_estimate_bytes": sum(p["estimate_bytes"] for p in per.values()),
            "max_turn_s": worst, "target": "< 10 s per turn", "met": worst < 10.0}


# -- 5. long conversation ----------------------------------------------------------------------
async def bench_conversation(models: list[str] | None = None, messages: int = 60, n_ctx: int = 2048,
                             max_tokens: int = 48) -> dict:
    """60 messages among four roles: prompt tokens evaluated vs sent (KV prefix reuse) and the
    largest prompt against each window."""
    from ..conversation import MultiModelSession, ResourceLimits

    models = models or ["smollm2-135m"] * 4
    roles = list(SEED_ROLES)
    cfg = _config(n_ctx, max(1, (os.cpu_count() or 2) // 2))
    rounds = -(-messages // len(roles))
    async with HotSwapEngine(cfg) as engine:
        session = MultiModelSession(protocol="round-robin", engine=engine, store=False,
                                    limits=ResourceLimits(max_rounds=rounds, min_rounds=rounds,
                                                          max_tokens=max_tokens, temperature=0.2,
                                                          consensus_threshold=1.0))
        for role, model in zip(roles, models * 4, strict=False):
            await engine.load_model(model, role)
            await session.add_model(role, engine.executor(role))
        n_ctx_by_role = {r: engine.executor(r).n_ctx for r in roles}
        t0 = time.perf_counter()
        result = await session.execute_collaborative_prompt(
            "Review this React hook and agree on the best fix:\n"
            "function useData(id) { const [d, setD] = useState(); useEffect(() => { fetch('/x/' + id)"
            ".then(r => r.json()).then(setD); }); return d; }")
        wall = time.perf_counter() - t0
    from ..sessions.events import TurnMetrics

    metrics = [e for e in session.events if isinstance(e, TurnMetrics)]
    sent = sum(m.prompt_tokens for m in metrics)
    evaluated = sum(m.prompt_tokens_evaluated or 0 for m in metrics)
    max_prompt = {r: max([m.prompt_tokens for m in metrics if m.role == r] or [0])
                  for r in roles}
    n_messages = sum(1 for e in session.events if e.kind == "message")
    return {"part": "conversation", "messages": n_messages, "turns": len(metrics),
            "rounds": result.rounds_run, "wall_s": round(wall, 1),
            "prompt_tokens_sent": sent, "prompt_tokens_evaluated": evaluated,
            "kv_reuse_ratio": round(1 - evaluated / sent, 4) if sent else 0.0,
            "max_prompt_tokens": max_prompt, "n_ctx": n_ctx_by_role,
            "within_windows": all(max_prompt[r] <= n_ctx_by_role[r] for r in roles),
            "failures": len(session.failures)}


PARTS: dict[str, Callable[..., Awaitable[dict]]] = {
    "overhead": bench_overhead, "swap": bench_swap, "memory": bench_memory, "pool": bench_pool,
    "conversation": bench_conversation}
