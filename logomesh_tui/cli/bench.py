"""`logomesh-tui bench [PART]`: speed, memory, responsiveness and quality benchmarks."""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import sys
import time
from pathlib import Path

import psutil
from rich.console import Console
from rich.table import Table

from .args import command, json_flag

SPEED_PARTS = ["overhead", "swap", "memory", "pool", "conversation", "shared", "lookup", "ui"]
ALL_PARTS = SPEED_PARTS + ["quality"]


def register(sub: argparse._SubParsersAction) -> None:
    p = command(sub, "bench", cmd_bench, "run benchmarks (no PART: all of them)")
    p.add_argument("part", nargs="?", choices=ALL_PARTS, help="which benchmark")
    p.add_argument("--model", help="model for single-model parts (overhead)")
    p.add_argument("--models", help="comma-separated models for multi-model parts")
    p.add_argument("--tasks", help="quality: a folder of tasks (default: bench/tasks)")
    p.add_argument("--limit", type=int, help="quality: run only the first N tasks")
    p.add_argument("--only", help="quality: comma-separated task folder names to run")
    p.add_argument("--split", help="quality: only tasks whose task.json has this split "
                                   "(bench/tasks: tune, dev)")
    p.add_argument("--calibrate-split", help="quality: calibrate on the tasks of this split "
                                             "(e.g. tune, so the plan is not fitted to the tasks run)")
    p.add_argument("--modes", help="quality: comma-separated modes (single, self_repair, "
                                   "single_checks, pool; default all)")
    p.add_argument("--budget", type=int, help="quality: token budget per task and mode")
    p.add_argument("--no-lint", action="store_true", help="quality: verifier without eslint")
    p.add_argument("--samples", type=int,
                   help="quality: extra temperature samples the evidence engine draws after "
                        "the greedy answers (default 0)")
    p.add_argument("--calibrate-on",
                   help="quality: comma-separated task folders to calibrate on (default: the "
                        "tasks run; use a tuning split so the plan is not fitted to them)")
    p.add_argument("--threads", type=int,
                   help="quality: threads per model worker (default: all cores; 1 is faster "
                        "when other work shares the cores)")
    p.add_argument("--calibrate-only", action="store_true",
                   help="quality: only measure the models' one-shot pass rates (stored with "
                        "--record)")
    p.add_argument("--calibrate", action="store_true",
                   help="quality: first measure every model's one-shot pass rate on the tasks "
                        "(this run's pool plan is made from these rates)")
    p.add_argument("--record", action="store_true",
                   help="quality: record the measured one-shot pass rates in the rate store "
                        "(under the task set's name), which later plans choose coders from; "
                        "without it the store is left as it is")
    p.add_argument("--task-set",
                   help="quality: the name to record the rates under (default: the tasks "
                        "folder's name and split, e.g. tasks:dev)")
    json_flag(p, "print one JSON object")
    p.add_argument("--out", default="bench/results", help="folder for the JSON results")


def machine() -> dict:
    return {"cpu": platform.processor() or platform.machine(), "cores": psutil.cpu_count(),
            "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
            "python": platform.python_version(), "platform": platform.platform()}


async def _run_part(part: str, args: argparse.Namespace) -> dict:
    models = args.models.split(",") if args.models else None
    if part == "ui":
        from ..tui.bench_ui import bench_ui

        return await bench_ui(models)
    if part == "quality":
        return await _quality(args, models)
    from ..bench import speed

    fn = speed.PARTS[part]
    if part == "overhead":
        return await fn(model=args.model or "smollm2-135m")
    return await fn(models=models)


async def _quality(args: argparse.Namespace, models: list[str] | None) -> dict:
    from ..bench.speed import DEFAULT_POOL
    from ..config import EngineConfig
    from ..conversation.roles import SEED_ROLES
    from ..pool.engine import HotSwapEngine

    roles = list(SEED_ROLES)
    models = models or DEFAULT_POOL
    tasks = Path(args.tasks) if args.tasks else Path(__file__).resolve().parents[2] / "bench" / "tasks"
    # A shared 2-core machine can take minutes for one long reply: a generous turn timeout;
    # no UI to keep responsive, so the workers run at normal priority.
    cfg = EngineConfig(n_ctx=4096, n_threads=args.threads or psutil.cpu_count() or 1,
                       max_concurrent_turns=1,
                       turn_timeout_s=900, worker_nice=0)
    async with HotSwapEngine(cfg) as engine:
        executors = {}
        for role, model in zip(roles, models, strict=False):
            await engine.load_model(model, role)
            executors[role] = engine.executor(role)
        return await _quality_run(args, executors, tasks)


async def _quality_run(args: argparse.Namespace, executors: dict, tasks: Path) -> dict:
    """`bench quality` on loaded ``executors``: the rate store is written only with --record."""
    from ..bench.quality import DEFAULT_TOKEN_BUDGET, MODES, calibrate, run_quality
    from ..evidence.engine import EvidenceConfig
    from ..evidence.rates import PassRates, task_set_name

    modes = tuple(args.modes.split(",")) if args.modes else MODES
    bad = [m for m in modes if m not in MODES]
    if bad:
        raise SystemExit(f"error: unknown quality mode(s) {', '.join(bad)}: choose from "
                         f"{', '.join(MODES)}")
    only = args.only.split(",") if args.only else None
    rates = PassRates.load()

    # A full run takes long on a laptop: say where it is, on stderr (stdout stays the result).
    def progress(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    calibrated = None
    cal_set = None
    if args.calibrate or args.calibrate_only:
        on = args.calibrate_on.split(",") if args.calibrate_on else only
        cal_split = args.calibrate_split or (None if args.calibrate_on else args.split)
        cal_set = args.task_set or task_set_name(tasks, cal_split)
        calibrated = await calibrate(executors, tasks, rates=rates, limit=args.limit,
                                     only=on, split=cal_split, task_set=cal_set,
                                     on_progress=progress)
        if args.record:
            rates.save()
    if args.calibrate_only:
        return {"calibration": calibrated, "task_set": cal_set, "tasks": only or "all",
                "rates_file": str(rates.path) if args.record else None,
                "recorded": bool(args.record)}

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    partial = out / "quality.partial.jsonl"
    partial.write_text("")

    def keep(row: dict) -> None:
        # Each finished (task, mode) at once: a long run cut short keeps what it did.
        with partial.open("a") as fh:
            fh.write(json.dumps(row) + "\n")

    engine_config = EvidenceConfig(**({"samples": args.samples} if args.samples is not None
                                      else {}))
    result = await run_quality(executors, tasks, modes=modes, limit=args.limit, only=only,
                               split=args.split, rates=rates, record=args.record,
                               task_set=args.task_set, plan_task_set=cal_set,
                               lint=not args.no_lint, on_progress=progress,
                               token_budget=args.budget or DEFAULT_TOKEN_BUDGET,
                               engine_config=engine_config, on_row=keep)
    if args.record:
        rates.save()
    if calibrated is not None:
        result["calibration"] = calibrated
    return result


def _print_table(result: dict, console: Console) -> None:
    table = Table(title=f"bench {result.get('part')}", show_header=True)
    table.add_column("measure")
    table.add_column("value")

    def walk(prefix: str, value) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                walk(f"{prefix}.{k}" if prefix else k, v)
        else:
            table.add_row(prefix, json.dumps(value) if isinstance(value, list | bool) else str(value))

    walk("", {k: v for k, v in result.items() if k != "part"})
    console.print(table)


def cmd_bench(args: argparse.Namespace) -> int:
    parts = [args.part] if args.part else ALL_PARTS
    out = Path(args.out)
    # Checked before the runs, which can take an hour: --out names a folder, not a file.
    if out.exists() and not out.is_dir():
        print(f"error: --out {out} is a file; give a folder for the results "
              f"(they are written as <folder>/<part>.json)", file=sys.stderr)
        return 2
    console = Console(stderr=args.json)
    results = {}
    for part in parts:
        t0 = time.perf_counter()
        result = asyncio.run(_run_part(part, args))
        result["wall_s"] = round(time.perf_counter() - t0, 1)
        result["machine"] = machine()
        results[part] = result
        out.mkdir(parents=True, exist_ok=True)
        # A calibration is not a quality run: it must not overwrite the last quality.json.
        name = "calibration" if part == "quality" and args.calibrate_only else part
        (out / f"{name}.json").write_text(json.dumps(result, indent=2))
        if not args.json:
            if part == "quality" and not args.calibrate_only:
                from ..bench.quality import format_table

                console.print(format_table(result))
            else:
                _print_table(result, console)
    if args.json:
        print(json.dumps(results[parts[0]] if len(parts) == 1 else results))
    return 0
