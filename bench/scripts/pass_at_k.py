"""Upper bound for any selection: how many tasks get at least one passing answer from a model's
temperature samples (the hidden checks score only; nothing here feeds a loop).

    .venv/bin/python bench/scripts/pass_at_k.py --model qwen2.5-coder-1.5b --samples 6 \
        --only 09-discriminated-union,12-paginate-off-by-one --out bench/results/pass-at-k.json

Each sample is the code-first prompt every mode starts from, at the temperatures the evidence
engine samples at (0.7, 1.0, 0.5, 0.9, ...), seeds 8, 9, ...
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
from pathlib import Path

from logomesh_tui.bench.quality import DEFAULT_MAX_TOKENS, DEFAULT_TOKEN_BUDGET, _Run
from logomesh_tui.bench.quality_tasks import check_answers, load_tasks
from logomesh_tui.verify.toolchain import ensure_tsc
from logomesh_tui.config import EngineConfig
from logomesh_tui.evidence.engine import EvidenceConfig
from logomesh_tui.evidence.rates import Plan
from logomesh_tui.pool.engine import HotSwapEngine

TASKS = Path(__file__).resolve().parents[1] / "tasks"


async def main(args: argparse.Namespace) -> dict:
    only = set(args.only.split(",")) if args.only else None
    tasks = [t for t in load_tasks(TASKS) if (only is None or t.name in only)
             and (args.split is None or t.split == args.split)]
    toolchain = ensure_tsc()
    temps = EvidenceConfig().temperatures
    rows = []
    t0 = time.perf_counter()
    pool_config = EngineConfig(n_ctx=4096, n_threads=os.cpu_count() or 1, max_concurrent_turns=1,
                               turn_timeout_s=900, worker_nice=0)
    async with HotSwapEngine(pool_config) as engine:
        await engine.load_model(args.model, "coder")
        executors = {"coder": engine.executor("coder")}
        for task in tasks:
            run = _Run(executors, Plan(primary="coder", tester="coder"), task, toolchain,
                       DEFAULT_TOKEN_BUDGET * 4, DEFAULT_MAX_TOKENS, False)
            texts = []
            for i in range(args.samples):
                cand = await run.engine.propose(run.ctask, "coder", "sample",
                                                temps[i % len(temps)], 8 + i, n=i + 1)
                texts.append(cand.text if cand else None)
            outs = check_answers(toolchain, [(task, t) for t in texts if t is not None])
            passed = [o.passed for o in outs]
            rows.append({"task": task.name, "samples": len(texts), "answered": len(outs),
                         "passed": sum(passed), "distinct": len({t for t in texts if t})})
            print(f"{task.name}: {sum(passed)}/{len(texts)} passed, "
                  f"{rows[-1]['distinct']} distinct", flush=True)
    return {"model": args.model, "samples_per_task": args.samples, "temperatures": list(temps),
            "tasks": rows, "tasks_with_a_pass": sum(1 for r in rows if r["passed"]),
            "wall_s": round(time.perf_counter() - t0, 1)}


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default="qwen2.5-coder-1.5b")
    p.add_argument("--samples", type=int, default=6)
    p.add_argument("--only")
    p.add_argument("--split")
    p.add_argument("--out", required=True)
    a = p.parse_args()
    result = asyncio.run(main(a))
    Path(a.out).write_text(json.dumps(result, indent=2))
    print(json.dumps({k: v for k, v in result.items() if k != "tasks"}))
