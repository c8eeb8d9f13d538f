"""Measured pass rates per model, stored, so who codes and who tests follows measurements.

``bench quality`` records, for every model, how many of its one-shot answers passed a task's
check, and (calibration) which tasks they passed. The engine's :func:`plan_roles` ranks the
loaded models by those rates; a model with no measurement is ranked after the measured ones by
its parameter count (the only prior there is); a weaker model codes beside the best only where
it passed a task the best one failed.
The store is a JSON file: ``$LOGOMESH_PASS_RATES``, else ``<user cache>/logomesh-tui/pass_rates.json``;
the numbers shipped with the package (``pass_rates.json`` beside this module: one-shot answers
on the 25 tasks of bench/tasks' tune split, 2 cores, `bench quality --calibrate-only
--calibrate-split tune`, ninth session, task by task: qwen2.5-coder-1.5b 8/25,
qwen2.5-coder-0.5b 6/25, one of them a task the 1.5B failed; gemma-3-270m and smollm2-135m
0/25, an earlier run) apply until the user has measurements of their own.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from platformdirs import user_cache_dir

from ..codepipe.executors import model_size_hint

if TYPE_CHECKING:
    from ..conversation.context import TurnExecutor

SHIPPED = Path(__file__).resolve().with_name("pass_rates.json")


def default_store() -> Path:
    env = os.environ.get("LOGOMESH_PASS_RATES")
    return Path(env) if env else Path(user_cache_dir("logomesh-tui")) / "pass_rates.json"


@dataclass
class PassRates:
    """Attempts and passes per model id."""

    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    # Per model, each measured task's outcome (task name -> passed).
    tasks: dict[str, dict[str, bool]] = field(default_factory=dict)
    path: Path | None = None

    @classmethod
    def load(cls, path: Path | None = None) -> PassRates:
        """The user's store if it exists, else the shipped measurements."""
        path = path or default_store()
        for source in (path, SHIPPED):
            try:
                data = json.loads(source.read_text())
            except (OSError, ValueError):
                continue
            if isinstance(data, dict):
                models = {m: v for m, v in data.get("models", {}).items() if isinstance(v, dict)}
                counts = {m: {"attempts": int(v.get("attempts", 0)), "passed": int(v.get("passed", 0))}
                          for m, v in models.items()}
                tasks = {m: {str(t): bool(ok) for t, ok in v["tasks"].items()}
                         for m, v in models.items() if isinstance(v.get("tasks"), dict)}
                return cls(counts=counts, tasks=tasks, path=path)
        return cls(path=path)

    def record(self, model_id: str, passed: bool, task: str | None = None) -> None:
        """One attempt; with ``task`` (its name), the outcome is kept per task too (the latest
        attempt's), so models can be compared task by task (:meth:`rescues`)."""
        c = self.counts.setdefault(model_id, {"attempts": 0, "passed": 0})
        c["attempts"] += 1
        c["passed"] += int(passed)
        if task is not None:
            self.tasks.setdefault(model_id, {})[task] = passed

    def rescues(self, model_id: str, over: str) -> int | None:
        """On the tasks both were measured on, how many ``model_id`` passed and ``over``
        failed; None when they share no measured task."""
        mine, theirs = self.tasks.get(model_id, {}), self.tasks.get(over, {})
        common = set(mine) & set(theirs)
        if not common:
            return None
        return sum(1 for t in common if mine[t] and not theirs[t])

    def rate(self, model_id: str) -> float | None:
        """Laplace-smoothed pass rate, or None when never measured."""
        c = self.counts.get(model_id)
        if not c or not c["attempts"]:
            return None
        return (c["passed"] + 1) / (c["attempts"] + 2)

    def save(self, path: Path | None = None) -> Path:
        dest = path or self.path or default_store()
        dest.parent.mkdir(parents=True, exist_ok=True)
        models = {m: {**c, **({"tasks": self.tasks[m]} if self.tasks.get(m) else {})}
                  for m, c in self.counts.items()}
        dest.write_text(json.dumps({"models": models}, indent=2, sort_keys=True))
        return dest

    def ranked(self, model_ids: list[str]) -> list[str]:
        """Best first: measured rate, then (unmeasured) parameter count."""
        def key(m: str) -> tuple[int, float, float]:
            r = self.rate(m)
            return (0 if r is not None else 1, -(r or 0.0), -model_size_hint(m))
        return sorted(model_ids, key=key)


@dataclass(frozen=True)
class Plan:
    """Who does what: the primary coder (greedy and samples), extra coders, the tester."""

    primary: str
    extra_coders: tuple[str, ...] = ()
    tester: str = ""

    def describe(self, executors: Mapping[str, TurnExecutor]) -> dict:
        name = {r: e.model_id for r, e in executors.items()}
        return {"primary": name[self.primary], "extra_coders": [name[r] for r in self.extra_coders],
                "tester": name[self.tester or self.primary]}


def plan_roles(executors: Mapping[str, TurnExecutor], rates: PassRates, *,
               min_share: float = 0.5) -> Plan:
    """The best-measured model codes; the tester is the next-best measured model whose rate is
    at least ``min_share`` of the best's (a second opinion on behaviour, cheaper than the
    primary), else the primary. Others code too only where they pay off: their rate clears the
    same bar and, where both were measured task by task, they passed at least one task the best
    model failed (a weaker model that passes only what the best one passes adds calls, never
    passes: measured in the pool on the dev tasks, the 0.5B's answers passed none of the tasks
    the 1.5B's greedy answer failed, 0 of 14 in two runs)."""
    if not executors:
        raise ValueError("no executors given")
    by_model: dict[str, list[str]] = {}
    for role, ex in executors.items():
        by_model.setdefault(ex.model_id, []).append(role)
    order = rates.ranked(list(by_model))
    primary = by_model[order[0]][0]
    best = rates.rate(order[0])
    clears: list[str] = []
    if best is not None:
        for m in order[1:]:
            r = rates.rate(m)
            # A model that never passed does not pay, however the smoothing rounds its rate
            # (0 of 2 smooths to 0.25, half of 1 of 2's 0.5).
            if r is not None and rates.counts[m]["passed"] > 0 and r >= min_share * best:
                clears.append(m)
    extras = [by_model[m][0] for m in clears if rates.rescues(m, order[0]) != 0]
    tester = by_model[clears[0]][0] if clears else primary
    return Plan(primary=primary, extra_coders=tuple(extras), tester=tester)
