"""Does collaboration beat one model? Three modes on the same tasks, the same machine:

- ``single``: the strongest model (largest by name), one shot;
- ``self_repair``: the same model, its answer sent back with the compiler's diagnostics until it
  compiles or the task's token budget is spent;
- ``collab``: every role proposes; the compiling proposals are critiqued and voted on by all
  roles; the strongest model synthesizes the winner with the critiques; compile errors go back to
  it until it compiles or the budget is spent (if it never does, the voted proposal stands).

Feedback is the compiler's only: the task program (``check.ts`` + the answer) is type-checked
and its errors shown with the offending source line, as ``tsc --pretty`` would. The runtime
check's verdict is never shown to the models; it only scores the final answer. ``self_repair``
and ``collab`` get the same per-task token budget (prompt + completion tokens, all calls).

``run_quality(executors_by_role, tasks_dir, ...)`` returns one JSON-able dict; the CLI wiring
(``logomesh-tui bench quality --tasks DIR``) prints :func:`format_table` of it.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from ..codepipe.executors import (
    StepFailed,
    TokenLedger,
    TurnExecutor,
    ask,
    strongest_role,
)
from ..codepipe.patches import extract_change
from ..codepipe.toolchain import Toolchain, ensure_tsc
from .quality_tasks import QualityTask, TaskOutcome, check_answer, load_tasks

MODES = ("single", "self_repair", "collab")
DEFAULT_TOKEN_BUDGET = 6000
DEFAULT_MAX_TOKENS = 700

SYSTEM = ("You are an expert TypeScript engineer. You change the file input.ts as the task says. "
          "Reply with the complete new input.ts in one ```ts code block, then stop.")


def _task_prompt(task: QualityTask) -> str:
    others = sorted(n for n in task.support if n != "check.ts")
    extra = f"\nOther files in the folder: {', '.join(others)}." if others else ""
    return (f"{task.instruction}\n{extra}\ninput.ts:\n```ts\n{task.input.rstrip()}\n```\n"
            "Reply with the complete new input.ts in one ```ts block.")


def _repair_prompt(feedback: str) -> str:
    return (f"The TypeScript compiler (tsc --strict) reports:\n{feedback}\n\n"
            "Fix input.ts. Reply with the complete corrected input.ts in one ```ts block.")


def _answer(reply: str, task: QualityTask) -> str | None:
    text, _ = extract_change(reply, task.input)
    return text


class _Budget:
    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.ledger = TokenLedger()

    @property
    def left(self) -> int:
        return self.limit - self.ledger.total_tokens


async def _gen(executor: TurnExecutor, role: str, messages: list[dict[str, str]],
               budget: _Budget, max_tokens: int, json_schema: dict | None = None,
               attempt: int = 0, salt: int = 0) -> str | None:
    """One call within the budget. Retries (``attempt``) sample more freely and ``salt`` gives
    roles served by the same model different seeds, so they do not repeat each other."""
    if budget.left <= 0:
        return None
    try:
        result, _ = await ask(executor, role, messages, max_tokens=max_tokens,
                              ledger=budget.ledger, temperature=min(1.0, 0.2 + 0.2 * attempt),
                              seed=7 + attempt + 31 * salt, json_schema=json_schema,
                              min_reply_tokens=48)
    except StepFailed:
        # Too big for the window, or the worker timed out: this call yields no answer.
        return None
    return result.text


def _compile_feedback(toolchain: Toolchain, task: QualityTask, answer: str) -> tuple[bool, str]:
    outcome = check_answer(toolchain, task, answer, run=False)
    return outcome.passed, outcome.feedback(task)


async def _single(executors, role, task, toolchain, budget, max_tokens) -> tuple[str | None, dict]:
    messages = [{"role": "system", "content": SYSTEM},
                {"role": "user", "content": _task_prompt(task)}]
    reply = await _gen(executors[role], role, messages, budget, max_tokens)
    return (_answer(reply, task) if reply else None), {"attempts": 1}


async def _self_repair(executors, role, task, toolchain, budget, max_tokens
                       ) -> tuple[str | None, dict]:
    messages = [{"role": "system", "content": SYSTEM},
                {"role": "user", "content": _task_prompt(task)}]
    best: str | None = None
    attempts = 0
    while budget.left > 0:
        reply = await _gen(executors[role], role, messages, budget, max_tokens,
                           attempt=attempts)
        if reply is None:
            break
        attempts += 1
        answer = _answer(reply, task)
        if answer is None:
            feedback = "Your reply held no ```ts code block."
        else:
            best = answer
            ok, feedback = _compile_feedback(toolchain, task, answer)
            if ok:
                break
        # Keep the first prompt and only the latest exchange: small windows.
        messages = [messages[0], messages[1], {"role": "assistant", "content": reply},
                    {"role": "user", "content": _repair_prompt(feedback)}]
    return best, {"attempts": attempts}


async def _collab(executors, role, task, toolchain, budget, max_tokens
                  ) -> tuple[str | None, dict]:
    base = [{"role": "system", "content": SYSTEM},
            {"role": "user", "content": _task_prompt(task)}]
    proposals: list[tuple[str, str, str, bool, str]] = []  # id, role, answer, compiles, feedback
    for salt, (r, ex) in enumerate(executors.items()):
        reply = await _gen(ex, r, base, budget, max_tokens, salt=salt)
        answer = _answer(reply, task) if reply else None
        if answer is None:
            continue
        ok, feedback = _compile_feedback(toolchain, task, answer)
        proposals.append((f"P{len(proposals) + 1}", r, answer, ok, feedback))
    info: dict = {"proposals": [{"id": p[0], "role": p[1], "compiles": p[3]} for p in proposals]}
    if not proposals:
        return None, info
    compiling = [p for p in proposals if p[3]]
    pool = compiling or proposals
    votes: dict[str, int] = {p[0]: 0 for p in pool}
    critiques = []
    if len(pool) > 1:
        listing = "\n\n".join(f"{p[0]} (by {p[1]}){'' if p[3] else ' - does not compile'}:\n"
                              f"```ts\n{p[2].rstrip()}\n```" for p in pool)
        ask_vote = (f"Task:\n{task.instruction}\n\nProposed answers:\n\n{listing}\n\n"
                    "Which answer does the task best? Answer in JSON: "
                    '{"vote": "<id>", "critique": "<one sentence on what the others miss>"}')
        schema = {"type": "object", "properties": {"vote": {"type": "string", "enum": list(votes)},
                                                    "critique": {"type": "string"}},
                  "required": ["vote", "critique"]}
        for r, ex in executors.items():
            reply = await _gen(ex, r, [{"role": "system", "content": SYSTEM},
                                       {"role": "user", "content": ask_vote}], budget, 160,
                               json_schema=schema)
            if reply is None:
                continue
            try:
                data = json.loads(reply)
            except ValueError:
                data = {}
            vote = str(data.get("vote", "")).upper() if isinstance(data, dict) else ""
            if vote not in votes:
                m = re.search(r"\bP\d+\b", reply.upper())
                vote = m.group(0) if m and m.group(0) in votes else ""
            if vote:
                votes[vote] += 1
            critiques.append(f"- {r}: {str(data.get('critique', '')) if isinstance(data, dict) else reply}")
    winner = max(pool, key=lambda p: (votes[p[0]], p[1] == role, -pool.index(p)))
    info["votes"] = votes
    info["winner"] = {"id": winner[0], "role": winner[1]}
    synth_msgs = [{"role": "system", "content": SYSTEM},
                  {"role": "user", "content": (
                      f"{_task_prompt(task)}\n\nThe team voted for this answer:\n```ts\n"
                      f"{winner[2].rstrip()}\n```\n"
                      + (f"Compiler: {winner[4]}\n" if not winner[3] else "")
                      + ("Critiques:\n" + "\n".join(critiques) + "\n" if critiques else "")
                      + "Write the final input.ts: the voted answer improved by the critiques.")}]
    final = winner[2] if winner[3] else None
    attempts = 0
    while budget.left > 0:
        reply = await _gen(executors[role], role, synth_msgs, budget, max_tokens,
                           attempt=attempts)
        if reply is None:
            break
        attempts += 1
        answer = _answer(reply, task)
        if answer is not None:
            ok, feedback = _compile_feedback(toolchain, task, answer)
            if ok:
                final = answer
                info["final_from"] = "synthesis"
                break
        else:
            feedback = "Your reply held no ```ts code block."
        synth_msgs = [*synth_msgs[:2], {"role": "assistant", "content": reply},
                      {"role": "user", "content": _repair_prompt(feedback)}]
    info.setdefault("final_from", f"proposal {winner[0]} ({winner[1]})" if final else "none")
    info["synthesis_attempts"] = attempts
    return final if final is not None else winner[2], info


_RUNNERS = {"single": _single, "self_repair": _self_repair, "collab": _collab}


async def run_quality(executors_by_role: Mapping[str, TurnExecutor], tasks_dir: Path | str, *,
                      modes: tuple[str, ...] = MODES, token_budget: int = DEFAULT_TOKEN_BUDGET,
                      max_tokens: int = DEFAULT_MAX_TOKENS, strongest: str | None = None,
                      toolchain: Toolchain | None = None, limit: int | None = None,
                      on_progress: Callable[[str], None] | None = None) -> dict:
    """Run the quality benchmark; return pass rates, tokens and wall time per mode, per task."""
    unknown = [m for m in modes if m not in _RUNNERS]
    if unknown:
        raise ValueError(f"unknown mode(s) {unknown}; choose from {list(MODES)}")
    if not executors_by_role:
        raise ValueError("no executors given: load at least one role")
    tasks = load_tasks(tasks_dir)[:limit]
    toolchain = toolchain or ensure_tsc()
    role = strongest or strongest_role(executors_by_role)
    if role not in executors_by_role:
        raise ValueError(f"strongest role {role!r} is not among {list(executors_by_role)}")
    per_task: dict[str, dict] = {t.name: {"task": t.name} for t in tasks}
    summary: dict[str, dict] = {}
    for mode in modes:
        runner = _RUNNERS[mode]
        totals = TokenLedger()
        passed = 0
        t0 = time.perf_counter()
        for n, task in enumerate(tasks, 1):
            # single gets what one shot costs; the two feedback modes share one budget.
            budget = _Budget(token_budget)
            t_task = time.perf_counter()
            answer, info = await runner(executors_by_role, role, task, toolchain, budget,
                                        max_tokens)
            outcome = (check_answer(toolchain, task, answer) if answer is not None else
                       TaskOutcome(task=task.name, passed=False, stage="no-answer"))
            passed += outcome.passed
            for k in ("prompt_tokens", "completion_tokens", "calls"):
                setattr(totals, k, getattr(totals, k) + getattr(budget.ledger, k))
            per_task[task.name][mode] = {
                "passed": outcome.passed, "stage": outcome.stage,
                "detail": (outcome.output or "; ".join(
                    d.render() for d in outcome.diagnostics if d.category == "error"))[:300],
                "prompt_tokens": budget.ledger.prompt_tokens,
                "completion_tokens": budget.ledger.completion_tokens,
                "calls": budget.ledger.calls, "seconds": round(time.perf_counter() - t_task, 2),
                **info}
            if on_progress:
                on_progress(f"{mode} {n}/{len(tasks)} {task.name}: "
                            f"{'pass' if outcome.passed else 'fail'}")
        wall = time.perf_counter() - t0
        summary[mode] = {"passed": passed, "tasks": len(tasks),
                         "pass_rate": round(passed / len(tasks), 3) if tasks else 0.0,
                         "prompt_tokens": totals.prompt_tokens,
                         "completion_tokens": totals.completion_tokens,
                         "total_tokens": totals.total_tokens, "calls": totals.calls,
                         "wall_s": round(wall, 2)}
    return {"tasks_dir": str(tasks_dir), "n_tasks": len(tasks),
            "roles": {r: e.model_id for r, e in executors_by_role.items()},
            "strongest_role": role, "strongest_model": executors_by_role[role].model_id,
            "token_budget_per_task": token_budget, "max_tokens_per_reply": max_tokens,
            "typescript_version": toolchain.version, "modes": summary,
            "differences": _differences(per_task, modes), "tasks": list(per_task.values()),
            "feedback": "compiler diagnostics only; the runtime check only scores the result"}


def _differences(per_task: dict[str, dict], modes: tuple[str, ...]) -> dict:
    out: dict[str, list[str]] = {}
    for a in modes:
        for b in modes:
            if a < b:
                out[f"{a}_not_{b}"] = [t for t, r in per_task.items()
                                       if r.get(a, {}).get("passed") and not r.get(b, {}).get("passed")]
                out[f"{b}_not_{a}"] = [t for t, r in per_task.items()
                                       if r.get(b, {}).get("passed") and not r.get(a, {}).get("passed")]
    wins_by_other = [t for t, r in per_task.items() if r.get("collab", {}).get("passed")
                     and r["collab"].get("final_from", "").startswith("proposal")]
    out["collab_passed_with_a_proposal_as_final"] = wins_by_other
    return out


def format_table(result: dict) -> str:
    """A plain-text table of the modes, for the terminal."""
    rows = [f"quality: {result['n_tasks']} tasks from {result['tasks_dir']}; strongest model "
            f"{result['strongest_model']} ({result['strongest_role']}); budget "
            f"{result['token_budget_per_task']} tokens/task for self_repair and collab",
            f"{'mode':<12} {'passed':>8} {'rate':>6} {'prompt tok':>11} {'compl tok':>10} "
            f"{'calls':>6} {'wall s':>8}"]
    for mode, s in result["modes"].items():
        rows.append(f"{mode:<12} {s['passed']:>3}/{s['tasks']:<4} {s['pass_rate']:>6.2f} "
                    f"{s['prompt_tokens']:>11} {s['completion_tokens']:>10} {s['calls']:>6} "
                    f"{s['wall_s']:>8.1f}")
    return "\n".join(rows)
