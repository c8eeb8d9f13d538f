"""Speed and memory benchmarks. Each returns one JSON-able dict whose
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
from ..sessions.events import MessagePosted, Note, TurnMetrics

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
def _rate(stamps: list[float], t0: float, end: float) -> tuple[float, float, int]:
    """(tokens/s after the first token, time to first token, tokens) of one streamed reply."""
    n = len(stamps)
    ttft = (stamps[0] if stamps else end) - t0
    rate = (n - 1) / (end - stamps[0]) if n > 1 and end > stamps[0] else 0.0
    return rate, ttft, n


class _Bare:
    """llama-cpp-python called directly in this process: the baseline."""

    def __init__(self, path: Path, chat_format: str | None, n_ctx: int, threads: int) -> None:
        from llama_cpp import Llama

        self.llm = Llama(model_path=str(path), n_ctx=n_ctx, n_threads=threads,
                         n_threads_batch=threads, chat_format=chat_format, verbose=False, seed=1)

    def run(self, max_tokens: int,
            messages: list[dict[str, str]] | None = None) -> tuple[float, float, int]:
        self.llm.reset()  # no KV reuse between repeats: both sides evaluate the whole prompt
        stamps: list[float] = []
        t0 = time.perf_counter()
        # stream=True returns an iterator of chunks (the declared type is a union with the reply)
        chunks = cast(Iterator[dict[str, Any]], self.llm.create_chat_completion(
            messages=cast(Any, messages or [{"role": "user", "content": PROMPT}]),
            max_tokens=max_tokens,
            temperature=0.0, seed=1, stream=True))
        for chunk in chunks:
            if chunk["choices"][0].get("delta", {}).get("content"):
                stamps.append(time.perf_counter())
        return _rate(stamps, t0, time.perf_counter())


async def _stack_once(engine: HotSwapEngine, i: int, max_tokens: int) -> tuple[float, float, int]:
    # A different leading message each time defeats KV prefix reuse, as llm.reset() does.
    req = _request(max_tokens, PROMPT)
    req.messages = [{"role": "system", "content": f"Run {i}."}] + req.messages
    stamps: list[float] = []
    t0 = time.perf_counter()
    await engine.generate("bench", req, _stamper(stamps))
    return _rate(stamps, t0, time.perf_counter())


def _spread(xs: list[float]) -> dict:
    if not xs:
        return {"median": 0.0, "min": 0.0, "max": 0.0, "p25": 0.0, "p75": 0.0}
    return {"median": round(_median(xs), 4), "min": round(min(xs), 4), "max": round(max(xs), 4),
            "p25": round(_pct(xs, 25), 4), "p75": round(_pct(xs, 75), 4)}


async def bench_overhead(model: str = "smollm2-135m", n_ctx: int = 2048, threads: int | None = None,
                         max_tokens: int = 128, repeats: int = 9) -> dict:
    """Whole stack (engine, worker process, JSON-lines streaming) versus bare llama-cpp-python.

    Both are loaded once and then run in alternation (bare, stack, stack, bare, ...) so a burst
    of load from other processes hits both sides alike; each pair gives one stack / bare ratio
    and the result is the median ratio with its spread. One warm-up pair is not counted.
    """
    threads = threads or os.cpu_count() or 1
    cat = Catalog.from_config(_config(n_ctx, threads))
    path = cat.path_for(cat.get(model))
    bare = await asyncio.to_thread(_Bare, path, _bare_chat_format(cat, model), n_ctx, threads)
    bare_rates, stack_rates, bare_ttft, stack_ttft, ratios = [], [], [], [], []
    tokens: dict[str, list[int]] = {"bare": [], "stack": []}
    try:
        async with HotSwapEngine(_config(n_ctx, threads)) as engine:
            await engine.load_model(model, "bench")
            for i in range(repeats + 1):
                if i % 2 == 0:
                    b = await asyncio.to_thread(bare.run, max_tokens)
                    st = await _stack_once(engine, i, max_tokens)
                else:
                    st = await _stack_once(engine, i, max_tokens)
                    b = await asyncio.to_thread(bare.run, max_tokens)
                if i == 0:
                    continue  # warm-up
                bare_rates.append(b[0])
                stack_rates.append(st[0])
                bare_ttft.append(b[1])
                stack_ttft.append(st[1])
                tokens["bare"].append(b[2])
                tokens["stack"].append(st[2])
                if b[0] > 0:
                    ratios.append(st[0] / b[0])
    finally:
        bare.llm.close()
        gc.collect()
    ratio = _median(ratios)
    return {"part": "overhead", "model": model, "n_ctx": n_ctx, "threads": threads,
            "max_tokens": max_tokens, "repeats": repeats, "order": "interleaved pairs",
            "bare_tokens_per_s": round(_median(bare_rates), 2),
            "stack_tokens_per_s": round(_median(stack_rates), 2),
            "throughput_ratio": round(ratio, 4),
            "throughput_ratio_spread": _spread(ratios),
            "bare_tokens_per_s_spread": _spread(bare_rates),
            "stack_tokens_per_s_spread": _spread(stack_rates),
            "bare_ttft_s": round(_median(bare_ttft), 4),
            "stack_ttft_s": round(_median(stack_ttft), 4),
            "ttft_difference_s": round(_median(stack_ttft) - _median(bare_ttft), 4),
            "tokens_generated": tokens,
            "target": "median throughput_ratio >= 0.98", "met": ratio >= 0.98}


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
ROLES = list(SEED_ROLES)


async def bench_conversation(models: list[str] | None = None, messages: int = 60, n_ctx: int = 2048,
                             max_tokens: int = 48) -> dict:
    """60 messages among four roles: prompt tokens evaluated vs sent (KV prefix reuse), the
    largest prompt against each window, and the turns that failed (with why)."""
    from ..conversation import MultiModelSession, ResourceLimits

    models = models or ["smollm2-135m"] * 4
    cfg = _config(n_ctx, max(1, (os.cpu_count() or 2) // 2))
    rounds = -(-messages // len(ROLES))
    async with HotSwapEngine(cfg) as engine:
        session = MultiModelSession(protocol="round-robin", engine=engine, store=False,
                                    limits=ResourceLimits(max_rounds=rounds, min_rounds=rounds,
                                                          max_tokens=max_tokens, temperature=0.2,
                                                          consensus_threshold=1.0))
        for role, model in zip(ROLES, models * 4, strict=False):
            await engine.load_model(model, role)
            await session.add_model(role, engine.executor(role))
        n_ctx_by_role = {r: engine.executor(r).n_ctx for r in ROLES}
        workers = len({m.pid for m in engine.get_active_models()})
        t0 = time.perf_counter()
        result = await session.execute_collaborative_prompt(
            "Review this React hook and agree on the best fix:\n"
            "function useData(id) { const [d, setD] = useState(); useEffect(() => { fetch('/x/' + id)"
            ".then(r => r.json()).then(setD); }); return d; }")
        wall = time.perf_counter() - t0
        rss = sum(m.rss_bytes or 0 for m in engine.get_active_models())
    metrics = [e for e in session.events if isinstance(e, TurnMetrics)]
    sent = sum(m.prompt_tokens for m in metrics)
    evaluated = sum(m.prompt_tokens_evaluated or 0 for m in metrics)
    max_prompt = {r: max([m.prompt_tokens for m in metrics if m.role == r] or [0])
                  for r in ROLES}
    n_messages = sum(1 for e in session.events if isinstance(e, MessagePosted))
    retries = [e for e in session.events if isinstance(e, Note) and e.event == "retry"]
    turns = n_messages + len(session.failures)
    reasons: dict[str, int] = {}
    for f in session.failures:
        reasons[f["reason"]] = reasons.get(f["reason"], 0) + 1
    retry_reasons: dict[str, int] = {}
    for note in retries:
        retry_reasons[note.reason] = retry_reasons.get(note.reason, 0) + 1
    ratio = evaluated / sent if sent else 0.0
    failed_share = len(session.failures) / turns if turns else 0.0
    within = all(max_prompt[r] <= n_ctx_by_role[r] for r in ROLES)
    return {"part": "conversation", "models": models, "messages": n_messages, "turns": turns,
            "requests": len(metrics), "rounds": result.rounds_run, "wall_s": round(wall, 1),
            "workers": workers, "worker_rss_bytes": rss,
            "prompt_tokens_sent": sent, "prompt_tokens_evaluated": evaluated,
            "evaluated_per_sent": round(ratio, 4),
            "kv_reuse_ratio": round(1 - ratio, 4) if sent else 0.0,
            "max_prompt_tokens": max_prompt, "n_ctx": n_ctx_by_role,
            "within_windows": within,
            "failures": len(session.failures), "failed_share": round(failed_share, 4),
            "failure_reasons": reasons, "retries": len(retries), "retry_reasons": retry_reasons,
            "target": "evaluated/sent <= 0.10, every prompt within its window, <= 5% failed turns",
            "met": ratio <= 0.10 and within and failed_share <= 0.05}


# -- 6. one model in four roles ----------------------------------------------------------------
def _example_file() -> tuple[str, str]:
    path = Path(__file__).resolve().parents[2] / "examples" / "Dashboard.tsx"
    return path.name, path.read_text(encoding="utf-8")


async def _first_turns(model: str, roles: list[str], n_ctx: int, threads: int,
                       files: dict[str, str], max_tokens: int) -> dict:
    """One round in which each of ``roles`` (all on ``model``) speaks once about ``files``."""
    from ..conversation import MultiModelSession, ResourceLimits

    # A slow machine must give numbers, not timeouts: the turn limit is generous here.
    config = _config(n_ctx, threads, max_concurrent_turns=1, turn_timeout_s=3600)
    async with HotSwapEngine(config) as engine:
        for role in roles:
            await engine.load_model(model, role)
        workers = len({m.pid for m in engine.get_active_models()})
        session = MultiModelSession(
            protocol="round-robin", engine=engine, store=False, input_files=files,
            summarize_with_model=False,
            limits=ResourceLimits(max_rounds=1, min_rounds=1, max_tokens=max_tokens,
                                  temperature=0.2, consensus_threshold=1.0))
        for role in roles:
            await session.add_model(role, engine.executor(role))
        t0 = time.perf_counter()
        await session.execute_collaborative_prompt(
            "Find the most important problem in this component and propose a fix.")
        wall = time.perf_counter() - t0
        rss = sum(m.rss_bytes or 0 for m in engine.get_active_models())
        kv_states = sum(m.kv_state_bytes or 0 for m in engine.get_active_models())
    metrics = [e for e in session.events if isinstance(e, TurnMetrics)]
    return {"wall_s": wall, "workers": workers, "rss_bytes": rss, "kv_state_bytes": kv_states,
            "prompt_tokens_sent": sum(m.prompt_tokens for m in metrics),
            "prompt_tokens_evaluated": sum(m.prompt_tokens_evaluated or 0 for m in metrics),
            "turns": len(metrics), "failures": len(session.failures)}


async def bench_shared(models: list[str] | None = None, n_ctx: int = 8192,
                       threads: int | None = None, max_tokens: int = 48,
                       files: dict[str, str] | None = None) -> dict:
    """The same model in four roles against the model in one role, in the same run (one, four,
    one): worker processes, RSS, and the first turns of all four roles on the same file."""
    model = (models or ["smollm2-135m"])[0]
    threads = threads or os.cpu_count() or 1
    if files is None:
        name, text = _example_file()
        files = {name: text}
    one_a = await _first_turns(model, ROLES[:1], n_ctx, threads, files, max_tokens)
    four = await _first_turns(model, ROLES, n_ctx, threads, files, max_tokens)
    one_b = await _first_turns(model, ROLES[:1], n_ctx, threads, files, max_tokens)
    one_wall = _median([one_a["wall_s"], one_b["wall_s"]])
    one_rss = _median([one_a["rss_bytes"], one_b["rss_bytes"]])
    time_ratio = four["wall_s"] / one_wall if one_wall else 0.0
    rss_ratio = four["rss_bytes"] / one_rss if one_rss else 0.0
    return {"part": "shared", "model": model, "n_ctx": n_ctx, "threads": threads,
            "file_lines": sum(t.count("\n") + 1 for t in files.values()),
            "one_role": {"first_turn_s": [round(one_a["wall_s"], 2), round(one_b["wall_s"], 2)],
                         "rss_bytes": [one_a["rss_bytes"], one_b["rss_bytes"]],
                         "prompt_tokens_evaluated": one_a["prompt_tokens_evaluated"]},
            "four_roles": {"first_turns_s": round(four["wall_s"], 2), "workers": four["workers"],
                           "rss_bytes": four["rss_bytes"],
                           "kv_state_bytes": four["kv_state_bytes"],
                           "prompt_tokens_sent": four["prompt_tokens_sent"],
                           "prompt_tokens_evaluated": four["prompt_tokens_evaluated"],
                           "turns": four["turns"], "failures": four["failures"]},
            "first_turns_ratio": round(time_ratio, 3), "rss_ratio": round(rss_ratio, 3),
            "target": "one worker; RSS <= 1.3x one role; four first turns < 2x one",
            "met": (four["workers"] == 1 and rss_ratio <= 1.3 and time_ratio < 2.0
                    and four["turns"] >= len(ROLES) and not four["failures"]
                    and not one_a["failures"] and not one_b["failures"])}


# -- 7. prompt-lookup decoding -----------------------------------------------------------------
CODE_PROMPT = """Add explicit TypeScript types to this function and return the whole function.

function groupBy(items, key) {
  const out = {};
  for (const item of items) {
    const k = item[key];
    if (!out[k]) {
      out[k] = [];
    }
    out[k].push(item);
  }
  return out;
}

function countBy(items, key) {
  const groups = groupBy(items, key);
  const counts = {};
  for (const k of Object.keys(groups)) {
    counts[k] = groups[k].length;
  }
  return counts;
}
"""


async def bench_lookup(models: list[str] | None = None, n_ctx: int = 2048,
                       threads: int | None = None, max_tokens: int = 128,
                       repeats: int = 3) -> dict:
    """A 128-token turn of the 1.5B with and without prompt-lookup decoding, and bare
    llama-cpp-python in this process (the floor this machine sets), interleaved: on a reply that
    quotes code from its prompt, and on the plain question of the pool benchmark."""
    model = (models or ["qwen2.5-coder-1.5b"])[0]
    threads = threads or os.cpu_count() or 1
    prompts = {"quotes_code": CODE_PROMPT, "plain": PROMPT}
    sides = ("off", "on", "bare")
    times: dict[str, dict[str, list[float]]] = {k: {s: [] for s in sides} for k in prompts}
    tokens: dict[str, dict[str, list[int]]] = {k: {s: [] for s in sides} for k in prompts}
    cat = Catalog.from_config(_config(n_ctx, threads))
    path = cat.path_for(cat.get(model))
    bare = await asyncio.to_thread(_Bare, path, _bare_chat_format(cat, model), n_ctx, threads)
    try:
        async with HotSwapEngine(_config(n_ctx, threads)) as off, \
                HotSwapEngine(_config(n_ctx, threads, prompt_lookup=True)) as on:
            await off.load_model(model, "bench")
            await on.load_model(model, "bench")
            for i in range(repeats + 1):
                for kind, prompt in prompts.items():
                    order = list(sides) if i % 2 == 0 else list(reversed(sides))
                    for name in order:
                        req = _request(max_tokens, prompt)
                        # A per-run first message: no KV reuse between repeats.
                        req.messages = [{"role": "system", "content": f"Run {i}."}] + req.messages
                        t0 = time.perf_counter()
                        if name == "bare":
                            n = (await asyncio.to_thread(bare.run, max_tokens, req.messages))[2]
                        else:
                            engine = off if name == "off" else on
                            n = (await engine.generate("bench", req)).completion_tokens
                        if i:
                            times[kind][name].append(time.perf_counter() - t0)
                            tokens[kind][name].append(n)
    finally:
        bare.llm.close()
    out: dict = {"part": "lookup", "model": model, "n_ctx": n_ctx, "threads": threads,
                 "max_tokens": max_tokens, "repeats": repeats}
    for kind in prompts:
        off_s, on_s = _median(times[kind]["off"]), _median(times[kind]["on"])
        bare_s = _median(times[kind]["bare"])
        out[kind] = {"turn_s_without": round(off_s, 3), "turn_s_with": round(on_s, 3),
                     "turn_s_bare": round(bare_s, 3),
                     "speedup": round(off_s / on_s, 3) if on_s else 0.0,
                     "stack_over_bare": round(off_s / bare_s, 3) if bare_s else 0.0,
                     "tokens": tokens[kind]}
    best = min(out["plain"]["turn_s_without"], out["plain"]["turn_s_with"])
    out["target"] = "128-token turn < 10 s"
    out["met"] = best < 10.0
    return out


PARTS: dict[str, Callable[..., Awaitable[dict]]] = {
    "overhead": bench_overhead, "swap": bench_swap, "memory": bench_memory, "pool": bench_pool,
    "conversation": bench_conversation, "shared": bench_shared, "lookup": bench_lookup}
