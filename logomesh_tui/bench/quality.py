"""Does a pool of models beat its best model on code? Four modes on the same tasks and machine.

- ``single``: the best model (by measured pass rate, see :mod:`logomesh_tui.evidence.rates`),
  one greedy shot with the best prompt we have (the whole file back, no tests, no test imports);
- ``self_repair``: the same model; its answer is type-checked (``tsc --strict`` on the answer and
  the task's support files) and the errors sent back until it compiles, best-so-far kept;
- ``single_checks``: the same model alone inside the evidence engine: greedy + samples, its own
  probes, the verifier (tsc, lint, probes in the sandbox), selection by execution, repair;
- ``pool``: the evidence engine with every loaded model in the part its measured pass rate earns.

Honesty rules: nothing in a loop sees ``check.ts`` (nor ``reference.ts``); the loops see the task
text, the starter, the support files and what the models wrote. ``check.ts`` only scores, after
the loop: the final answer of each mode, and every candidate any mode produced, so pass@1 and
pass@k per model come from the same run. Every candidate and verdict is in the result.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from ..conversation.executors import ExecutorWrapper, TokenLedger
from ..evidence.engine import CODER_SYSTEM, EvidenceConfig, EvidenceEngine
from ..evidence.rates import PassRates, Plan, plan_roles, task_set_name
from ..evidence.types import Candidate, CodeTask
from ..evidence.verifier import Verifier, VerifierConfig
from ..pool.types import GenerationRequest, GenerationResult, TokenCallback
from ..verify.toolchain import Toolchain, ensure_tsc
from .quality_tasks import QualityTask, TaskError, check_answers, load_tasks

if TYPE_CHECKING:
    from ..conversation.context import TurnExecutor

MODES = ("single", "self_repair", "single_checks", "pool")
DEFAULT_TOKEN_BUDGET = 9000
DEFAULT_MAX_TOKENS = 700


def code_task(task: QualityTask) -> CodeTask:
    """What the loops may see of a task folder: never check.ts, never the reference."""
    support = {n: t for n, t in task.support.items() if n != "check.ts"}
    return CodeTask(instruction=task.instruction, starter=task.input, support=support)


class GreedyMemo:
    """One task's greedy (temperature 0) answers, shared by the modes that ask for them.

    Every mode starts with the same greedy call of the best model on the same prompt; llama.cpp
    can answer it differently depending on what its KV cache held (a prompt evaluated in one
    batch or on top of a reused prefix rounds differently), so the modes would not start from
    the same answer. The memo gives them the first answer, and charges each later mode the
    seconds that answer took, so a mode's time is what it would be on its own.
    """

    def __init__(self) -> None:
        self.answers: dict[tuple, tuple[GenerationResult, float]] = {}
        self.charged_s = 0.0

    def wrap(self, ex: TurnExecutor) -> TurnExecutor:
        return _Memoized(ex, self)


class _Memoized(ExecutorWrapper):
    def __init__(self, inner: TurnExecutor, memo: GreedyMemo) -> None:
        super().__init__(inner)
        self.memo = memo

    async def generate(self, request: GenerationRequest,
                       on_token: TokenCallback | None = None) -> GenerationResult:
        if request.temperature > 0 or request.json_schema is not None:
            return await self.inner.generate(request, on_token)
        key = (self.inner.model_id, json.dumps(request.messages), request.max_tokens)
        hit = self.memo.answers.get(key)
        if hit is not None:
            self.memo.charged_s += hit[1]
            return hit[0].model_copy(deep=True)
        t0 = time.perf_counter()
        result = await self.inner.generate(request, on_token)
        self.memo.answers[key] = (result.model_copy(deep=True), time.perf_counter() - t0)
        return result


class _Run:
    """One mode on one task: its engine (or plain loop), ledger and candidates."""

    def __init__(self, executors: Mapping[str, TurnExecutor], plan: Plan, task: QualityTask,
                 toolchain: Toolchain, budget: int, max_tokens: int, lint: bool,
                 engine_config: EvidenceConfig | None = None) -> None:
        self.task = task
        self.ctask = code_task(task)
        self.ledger = TokenLedger()
        self.verifier = Verifier(self.ctask, toolchain=toolchain,
                                 config=VerifierConfig(lint=lint))
        self.engine = EvidenceEngine(
            executors=executors, plan=plan, verifier=self.verifier, ledger=self.ledger,
            config=replace(engine_config or EvidenceConfig(), token_budget=budget,
                           max_tokens=max_tokens))


async def _single(run: _Run) -> tuple[Candidate | None, list[Candidate], dict]:
    cand = await run.engine.propose(run.ctask, run.engine.plan.primary, "greedy", 0.0,
                                     run.engine.config.seed, n=1)
    return cand, [cand] if cand else [], {}


async def _self_repair(run: _Run) -> tuple[Candidate | None, list[Candidate], dict]:
    eng, task = run.engine, run.ctask
    role = eng.plan.primary
    messages = [{"role": "system", "content": CODER_SYSTEM},
                {"role": "user", "content": eng.task_prompt(task)}]
    cands: list[Candidate] = []
    best: Candidate | None = None
    for attempt in range(1, 6):
        cand = await eng.propose(task, role, "greedy" if attempt == 1 else "repair",
                                  0.0 if attempt == 1 else 0.3, eng.config.seed + attempt,
                                  messages=messages, n=attempt,
                                  parent=cands[-1].id if cands else None)
        if cand is None:
            break
        cands.append(cand)
        ev = (await run.verifier.verify([cand], []))[cand.id]
        if ev.compiles and not ev.unchanged:
            best = cand
            break
        if best is None:
            best = cand
        src = cand.text.splitlines()
        feedback = "\n".join(d.render(src) for d in ev.compile_errors[:8]) or (
            "The file is unchanged: the task is not done.")
        messages = [*messages[:2], {"role": "assistant", "content": f"```ts\n{cand.text}```"},
                    {"role": "user", "content": (
                        f"The TypeScript compiler (tsc --strict) reports:\n{feedback}\n\n"
                        f"Fix {task.file_name}. Reply with the complete corrected file in one "
                        "```ts block.")}]
    return best, cands, {"attempts": len(cands)}


async def _engine(run: _Run) -> tuple[Candidate | None, list[Candidate], dict]:
    result = await run.engine.solve(run.ctask)
    info = {"stopped": result.stopped, "repair_rounds": result.rounds,
            "probes": [p.model_dump() for p in result.probes],
            "evidence": {k: v.model_dump(exclude={"probes"}) | {
                "probe_status": [p.status for p in v.probes],
                "failed_checks": v.failed_checks()} for k, v in result.evidence.items()},
            "selection": result.selection.model_dump() if result.selection else None,
            "verifier_s": round(run.verifier.seconds, 2)}
    return result.chosen, result.candidates, info


_RUNNERS = {"single": _single, "self_repair": _self_repair, "single_checks": _engine,
            "pool": _engine}


def pass_at_k(n: int, c: int, k: int) -> float:
    """The unbiased estimator of Chen et al. (2021): 1 - C(n-c, k) / C(n, k)."""
    if n - c < k:
        return 1.0
    return 1.0 - math.comb(n - c, k) / math.comb(n, k)


async def run_quality(executors_by_role: Mapping[str, TurnExecutor], tasks_dir: Path | str, *,
                      modes: tuple[str, ...] = MODES, token_budget: int = DEFAULT_TOKEN_BUDGET,
                      max_tokens: int = DEFAULT_MAX_TOKENS, toolchain: Toolchain | None = None,
                      limit: int | None = None, only: list[str] | None = None,
                      split: str | None = None,
                      rates: PassRates | None = None, record: bool = False,
                      task_set: str | None = None, plan_task_set: str | None = None,
                      lint: bool = True, engine_config: EvidenceConfig | None = None,
                      on_progress: Callable[[str], None] | None = None,
                      on_row: Callable[[dict], None] | None = None) -> dict:
    """Run the quality benchmark; return pass rates, pass@k, tokens, calls and wall time per
    mode, and every candidate with its verdict.

    The pool's plan is made from ``rates`` (the figures of ``plan_task_set``, else of the set
    :func:`plan_roles` picks). With ``record``, the one-shot greedy answers of the ``single``
    mode are recorded in ``rates`` under ``task_set`` (default: :func:`task_set_name` of the
    folder and split); without it ``rates`` is left as it was."""
    unknown = [m for m in modes if m not in _RUNNERS]
    if unknown:
        raise ValueError(f"unknown mode(s) {unknown}; choose from {list(MODES)}")
    if not executors_by_role:
        raise ValueError("no executors given: load at least one role")
    tasks = _pick(load_tasks(tasks_dir), only, limit, tasks_dir, split)
    toolchain = toolchain or ensure_tsc()
    rates = rates if rates is not None else PassRates.load()
    pool_plan = plan_roles(executors_by_role, rates, task_set=plan_task_set)
    primary = pool_plan.primary
    solo_plan = Plan(primary=primary, tester=primary)
    per_task: dict[str, dict] = {t.name: {"task": t.name} for t in tasks}
    totals = {m: TokenLedger() for m in modes}
    walls = dict.fromkeys(modes, 0.0)
    all_cands: list[tuple[str, str, QualityTask, Candidate]] = []  # mode, task, task, cand
    verdict: dict[tuple[str, str, str], dict] = {}
    # Task by task, every mode on it: a run cut short still compares the modes on the tasks
    # it finished.
    for n, task in enumerate(tasks, 1):
        memo = GreedyMemo()
        wrapped = {r: memo.wrap(e) for r, e in executors_by_role.items()}
        for mode in modes:
            plan = pool_plan if mode == "pool" else solo_plan
            executors = wrapped if mode == "pool" else {primary: wrapped[primary]}
            # Lint belongs to the verifier; self-repair's feedback is the compiler's only.
            run = _Run(executors, plan, task, toolchain, token_budget, max_tokens,
                       lint and mode in ("single_checks", "pool"), engine_config)
            row, cands, verdicts, seconds = await _run_mode(mode, run, memo, toolchain)
            per_task[task.name][mode] = row
            walls[mode] += seconds
            for k in ("prompt_tokens", "completion_tokens", "calls"):
                setattr(totals[mode], k, getattr(totals[mode], k) + getattr(run.ledger, k))
            all_cands += [(mode, task.name, task, c) for c in cands]
            verdict |= {(mode, task.name, cid): v for cid, v in verdicts.items()}
            if on_row:
                on_row({"task": task.name, "mode": mode, **row})
            if on_progress:
                on_progress(f"{n}/{len(tasks)} {task.name} {mode}: "
                            f"{'pass' if row['passed'] else 'fail'}, {len(cands)} candidates, "
                            f"{run.ledger.calls} calls, {seconds:.0f} s")
    recorded = None
    if record and "single" in modes:
        recorded = task_set or task_set_name(tasks_dir, split)
        _record_greedy(rates.on(recorded), all_cands, verdict)
    return {"tasks_dir": str(tasks_dir), "n_tasks": len(tasks),
            "task_names": [t.name for t in tasks],
            "roles": {r: e.model_id for r, e in executors_by_role.items()},
            "best_model": executors_by_role[primary].model_id,
            "pool_plan": pool_plan.describe(executors_by_role),
            "rates_used": pool_plan.describe(executors_by_role)["rates"],
            "recorded_task_set": recorded,
            "token_budget_per_task": token_budget, "max_tokens_per_reply": max_tokens,
            "typescript_version": toolchain.version, "lint": lint,
            "modes": _summary(modes, tasks, per_task, totals, walls),
            "per_model": _per_model(all_cands, verdict),
            "differences": _differences(per_task, modes),
            "tasks": list(per_task.values()),
            "feedback": "loops see the task text, starter, support files and model output only; "
                        "check.ts scores every candidate after the loops"}


async def _run_mode(mode: str, run: _Run, memo: GreedyMemo, toolchain: Toolchain
                    ) -> tuple[dict, list[Candidate], dict[str, dict], float]:
    """One mode's loop on one task, then the hidden check on its candidates: the task's row,
    the candidates, {candidate id: verdict} and the seconds the loop took."""
    t_task = time.perf_counter()
    charged = memo.charged_s
    chosen, cands, info = await _RUNNERS[mode](run)
    # A greedy answer another mode already asked for costs its original seconds here.
    seconds = time.perf_counter() - t_task + (memo.charged_s - charged)
    verdicts = _score(toolchain, run.task, cands)
    rows = [c.model_dump() | {"verdict": verdicts[c.id]} for c in cands]
    v = verdicts.get(chosen.id) if chosen else None
    row = {"passed": bool(v and v["passed"]), "stage": v["stage"] if v else "no-answer",
           "detail": v["detail"] if v else "", "chosen": chosen.id if chosen else None,
           "any_candidate_passed": any(r["verdict"]["passed"] for r in rows),
           "prompt_tokens": run.ledger.prompt_tokens,
           "completion_tokens": run.ledger.completion_tokens,
           "calls": run.ledger.calls, "seconds": round(seconds, 2),
           "candidates": rows, **info}
    return row, cands, verdicts, seconds


def _score(toolchain: Toolchain, task: QualityTask, cands: list[Candidate]) -> dict[str, dict]:
    """The hidden check's verdict on each candidate, by id. It runs after the mode's loop on
    the task is over: it judges every candidate once, and nothing that runs later sees it."""
    outcomes = check_answers(toolchain, [(task, c.text) for c in cands])
    return {cand.id: {
        "passed": out.passed, "stage": out.stage,
        "detail": (out.output or "; ".join(d.render() for d in out.diagnostics
                                           if d.category == "error"))[:300]}
        for cand, out in zip(cands, outcomes, strict=True)}


def _summary(modes: tuple[str, ...], tasks: list[QualityTask], per_task: dict[str, dict],
             totals: dict[str, TokenLedger], walls: dict[str, float]) -> dict[str, dict]:
    """Per mode: tasks passed, pass rate, coverage (a task some candidate passed), tokens,
    calls and wall time."""
    summary: dict[str, dict] = {}
    for mode in modes:
        t = totals[mode]
        passed = sum(per_task[task.name][mode]["passed"] for task in tasks)
        summary[mode] = {
            "tasks": len(tasks), "passed": passed,
            "pass_rate": round(passed / len(tasks), 3) if tasks else 0.0,
            "coverage": sum(per_task[task.name][mode]["any_candidate_passed"] for task in tasks),
            "prompt_tokens": t.prompt_tokens, "completion_tokens": t.completion_tokens,
            "total_tokens": t.total_tokens, "calls": t.calls, "wall_s": round(walls[mode], 2),
            "s_per_task": round(walls[mode] / max(1, len(tasks)), 1)}
    return summary


def _record_greedy(store: PassRates, all_cands: list[tuple[str, str, QualityTask, Candidate]],
                   verdict: dict[tuple[str, str, str], dict]) -> None:
    """Record the ``single`` mode's one-shot greedy answers in ``store``: a measurement a
    later plan can be made from, kept apart from other task sets' (a harder set lowers every
    rate)."""
    for mode, tname, _, c in all_cands:
        if mode == "single" and c.origin == "greedy":
            store.record(c.model_id, verdict[(mode, tname, c.id)]["passed"], tname)


async def calibrate(executors_by_role: Mapping[str, TurnExecutor], tasks_dir: Path | str, *,
                    rates: PassRates, toolchain: Toolchain | None = None,
                    limit: int | None = None, only: list[str] | None = None,
                    split: str | None = None, max_tokens: int = DEFAULT_MAX_TOKENS,
                    task_set: str | None = None,
                    on_progress: Callable[[str], None] | None = None) -> dict:
    """Measure every loaded model's one-shot pass rate on the tasks and record it in ``rates``
    (what :func:`plan_roles` decides from) under ``task_set`` (default: :func:`task_set_name`
    of the folder and split). Returns {model: [passed, attempts]}."""
    rates = rates.on(task_set or task_set_name(tasks_dir, split))
    tasks = _pick(load_tasks(tasks_dir), only, limit, tasks_dir, split)
    toolchain = toolchain or ensure_tsc()
    by_model: dict[str, str] = {}
    for role, ex in executors_by_role.items():
        by_model.setdefault(ex.model_id, role)
    answers: list[tuple[str, QualityTask, str]] = []
    for model, role in by_model.items():
        for task in tasks:
            run = _Run({role: executors_by_role[role]}, Plan(primary=role, tester=role), task,
                       toolchain, DEFAULT_TOKEN_BUDGET, max_tokens, False)
            cand, _, _ = await _single(run)
            if cand is None:
                rates.record(model, False, task.name)
            else:
                answers.append((model, task, cand.text))
            if on_progress:
                on_progress(f"calibrate {model} {task.name}")
    for (model, task, _), out in zip(answers, check_answers(
            toolchain, [(t, a) for _, t, a in answers]), strict=True):
        rates.record(model, out.passed, task.name)
    return {m: [rates.counts[m]["passed"], rates.counts[m]["attempts"]] for m in by_model}


def _pick(tasks: list[QualityTask], only: list[str] | None, limit: int | None,
          tasks_dir: Path | str, split: str | None = None) -> list[QualityTask]:
    if split:
        known = sorted({t.split for t in tasks if t.split})
        tasks = [t for t in tasks if t.split == split]
        if not tasks:
            raise TaskError(f"no task in {tasks_dir} has split \"{split}\" in its task.json: "
                            f"choose one of {', '.join(known) or '(none: no task.json has one)'}")
    if only:
        missing = sorted(set(only) - {t.name for t in tasks})
        if missing:
            raise TaskError(f"no task named {', '.join(missing)} in {tasks_dir}: see the "
                             "folder names there")
        tasks = [t for t in tasks if t.name in only]
    return tasks[:limit]


def _per_model(all_cands, verdict) -> dict:
    """pass@1 and pass@k per model over every candidate it wrote (all modes), per task."""
    by: dict[str, dict[str, list[bool]]] = {}
    for mode, tname, _, c in all_cands:
        by.setdefault(c.model_id, {}).setdefault(tname, []).append(
            verdict[(mode, tname, c.id)]["passed"])
    out = {}
    for model, tasks in by.items():
        ns = [len(v) for v in tasks.values()]
        k = min(ns)
        out[model] = {
            "tasks": len(tasks), "candidates": sum(ns),
            "pass@1": round(sum(pass_at_k(len(v), sum(v), 1) for v in tasks.values())
                            / len(tasks), 3),
            f"pass@{k}": round(sum(pass_at_k(len(v), sum(v), k) for v in tasks.values())
                               / len(tasks), 3),
            "pass@any": sum(any(v) for v in tasks.values())}
    return out


def _differences(per_task: dict[str, dict], modes: tuple[str, ...]) -> dict:
    out: dict[str, list[str]] = {}
    for a in modes:
        for b in modes:
            if a != b:
                out[f"{a}_not_{b}"] = [t for t, r in per_task.items()
                                       if r.get(a, {}).get("passed")
                                       and not r.get(b, {}).get("passed")]
    return {k: v for k, v in out.items() if v}


def format_table(result: dict) -> str:
    """A plain-text table of the modes, for the terminal."""
    rows = [f"quality: {result['n_tasks']} tasks from {result['tasks_dir']}; best model "
            f"{result['best_model']}; pool plan {result['pool_plan']}",
            f"{'mode':<14} {'passed':>8} {'rate':>6} {'cover':>6} {'tokens':>8} {'calls':>6} "
            f"{'wall s':>8} {'s/task':>7}"]
    for mode, s in result["modes"].items():
        rows.append(f"{mode:<14} {s['passed']:>3}/{s['tasks']:<4} {s['pass_rate']:>6.2f} "
                    f"{s['coverage']:>6} {s['total_tokens']:>8} {s['calls']:>6} "
                    f"{s['wall_s']:>8.1f} {s['s_per_task']:>7.1f}")
    rows.append("per model: " + "; ".join(
        f"{m}: " + ", ".join(f"{k} {v}" for k, v in d.items()) for m, d in result["per_model"].items()))
    return "\n".join(rows)
