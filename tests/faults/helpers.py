"""Helpers for fault and soak tests: a small real-model config, the turn schema answered by fakes, and
process bookkeeping (which workers this test started, are any left)."""

from __future__ import annotations

import asyncio
import json
import os
import signal

import psutil

from logomesh_tui.config import EngineConfig
from logomesh_tui.pool.fake import FakeBackend
from logomesh_tui.pool.types import GenerationRequest

SMOL = "smollm2-135m"
PROMPT = ("A React component filters 5,000 orders inside render on every keystroke. "
          "Propose one concrete change.")


def child_pids() -> set[int]:
    """Every live descendant of this test process."""
    return {p.pid for p in psutil.Process().children(recursive=True)}


async def children_left(before: set[int], timeout: float = 30.0) -> set[int]:
    """Descendants not in ``before``, after waiting up to ``timeout`` for them to go.

    Exiting processes take a moment to be reaped, longer on a busy machine; the wait ends as
    soon as none is left, so only a process that stays makes it last.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while (left := child_pids() - before) and loop.time() < deadline:
        await asyncio.sleep(0.05)
    return left


def worker_pids(root: int) -> set[int]:
    """Model worker processes under ``root`` (any depth)."""
    out = set()
    try:
        for p in psutil.Process(root).children(recursive=True):
            try:
                if "logomesh_tui.pool.worker" in " ".join(p.cmdline()):
                    out.add(p.pid)
            except psutil.Error:
                continue
    except psutil.Error:
        pass
    return out


def wait_gone(pids: set[int], timeout: float = 10.0) -> set[int]:
    """Wait for ``pids`` to exit; return those still alive (zombies count as gone)."""
    procs = []
    for pid in pids:
        try:
            procs.append(psutil.Process(pid))
        except psutil.NoSuchProcess:
            continue
    _, alive = psutil.wait_procs(procs, timeout=timeout)
    return {p.pid for p in alive if p.is_running() and p.status() != psutil.STATUS_ZOMBIE}


def ensure_dead(pids: set[int]) -> None:
    """Cleanup after a failed assertion: continue and kill processes this test stopped."""
    for pid in pids:
        for sig in (signal.SIGCONT, signal.SIGKILL):
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                break


def ask(text: str, max_tokens: int = 8) -> GenerationRequest:
    return GenerationRequest(messages=[{"role": "user", "content": text}],
                             max_tokens=max_tokens, temperature=0.0)


def schema_reply(request: GenerationRequest, backend: FakeBackend) -> str:
    """A valid turn for any round: the first allowed type, citing the newest id, first vote."""
    if request.json_schema is None:
        return f"summary by {backend.model_id}"
    props = request.json_schema["properties"]
    reply = {"message_type": props["message_type"]["enum"][0],
             "content": f"{backend.model_id} point {backend.calls}",
             "references": props["references"]["items"].get("enum", [])[-1:],
             "confidence": 0.6}
    if "vote" in props:
        reply["vote"] = props["vote"]["enum"][0]
    return json.dumps(reply)


class FakeFactory:
    """backend_factory for engines whose roles are scripted fakes; ``estimate`` is 0."""

    def __init__(self, **kw) -> None:
        self.kw = kw
        self.made: list[FakeBackend] = []

    def estimate(self, model_id: str) -> int:
        return 0

    def __call__(self, model_id: str, config: EngineConfig) -> FakeBackend:
        b = FakeBackend(model_id, n_ctx=config.n_ctx, responder=schema_reply, **self.kw)
        self.made.append(b)
        return b
