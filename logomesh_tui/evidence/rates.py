"""Measured pass rates per model and task set, stored, so who codes and who tests follows
measurements.

``bench quality --record`` (or ``--calibrate``) records, for every model, how many of its
one-shot answers passed a task's check and which tasks they passed, under the name of the task
set they come from (:func:`task_set_name`: the tasks folder's name and split, or the name the
user gives). A run without ``--record`` changes nothing: figures from different task sets
are never added up, since a harder set lowers every model's rate and would reorder them.

:func:`plan_roles` ranks the loaded models by the figures of one task set: the one named, else
the set that measured the most of the loaded models (then the most attempts, then the name).
The plan says which set and which figures it chose from (:attr:`Plan.task_set`,
:attr:`Plan.figures`). A model with no measurement in that set is ranked after the measured
ones by its parameter count (the only prior there is); a weaker model codes beside the best
only where it passed a task the best one failed.

The store is a JSON file, ``{"task_sets": {name: {"models": {model: {"attempts", "passed",
"tasks"}}}}}``: ``$LOGOMESH_PASS_RATES``, else ``<user cache>/logomesh-tui/pass_rates.json``.
The figures shipped with the package (``pass_rates.json`` beside this module: one-shot answers
on bench/tasks' tune split; the run is bench/results/calibration-tune*.json) apply until the user has a store of their own. A store in the
older one-set form (``{"models": ...}``) is read as the task set ``unnamed``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from platformdirs import user_cache_dir

from ..conversation.executors import model_size_hint

if TYPE_CHECKING:
    from ..conversation.context import TurnExecutor

SHIPPED = Path(__file__).resolve().with_name("pass_rates.json")
#: The task set of figures recorded without one (and of a store in the older one-set form).
UNNAMED = "unnamed"


def default_store() -> Path:
    env = os.environ.get("LOGOMESH_PASS_RATES")
    return Path(env) if env else Path(user_cache_dir("logomesh-tui")) / "pass_rates.json"


def task_set_name(tasks_dir: Path | str, split: str | None = None) -> str:
    """The key a task set's figures are stored under: the folder's name, with ``:split``."""
    name = Path(tasks_dir).resolve().name or str(tasks_dir)
    return f"{name}:{split}" if split else name


@dataclass
class TaskSetFigures:
    """One task set's measurements: attempts and passes per model id, and per model each
    measured task's outcome (task name -> passed, the latest attempt's)."""

    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    tasks: dict[str, dict[str, bool]] = field(default_factory=dict)

    def attempts(self) -> int:
        return sum(c["attempts"] for c in self.counts.values())


def _figures(models: object) -> TaskSetFigures:
    if not isinstance(models, dict):
        return TaskSetFigures()
    ms = {m: v for m, v in models.items() if isinstance(v, dict)}
    return TaskSetFigures(
        counts={m: {"attempts": int(v.get("attempts", 0)), "passed": int(v.get("passed", 0))}
                for m, v in ms.items()},
        tasks={m: {str(t): bool(ok) for t, ok in v["tasks"].items()}
               for m, v in ms.items() if isinstance(v.get("tasks"), dict)})


class PassRates:
    """The store: figures per task set. ``counts``, ``tasks``, :meth:`record`, :meth:`rate`,
    :meth:`rescues` and :meth:`ranked` are about one of them, :attr:`task_set`;
    :meth:`on` gives the same store looking at another."""

    def __init__(self, counts: dict[str, dict[str, int]] | None = None,
                 tasks: dict[str, dict[str, bool]] | None = None, path: Path | None = None, *,
                 task_set: str = UNNAMED, sets: dict[str, TaskSetFigures] | None = None) -> None:
        self.path = path
        self.task_set = task_set
        self.sets: dict[str, TaskSetFigures] = sets if sets is not None else {}
        if counts is not None or tasks is not None:
            self.sets[task_set] = TaskSetFigures(counts=counts or {}, tasks=tasks or {})

    @property
    def figures(self) -> TaskSetFigures:
        return self.sets.setdefault(self.task_set, TaskSetFigures())

    @property
    def counts(self) -> dict[str, dict[str, int]]:
        return self.sets[self.task_set].counts if self.task_set in self.sets else {}

    @property
    def tasks(self) -> dict[str, dict[str, bool]]:
        return self.sets[self.task_set].tasks if self.task_set in self.sets else {}

    def on(self, task_set: str) -> PassRates:
        """This store (the same figures: what one records the other sees) on ``task_set``."""
        return PassRates(path=self.path, task_set=task_set, sets=self.sets)

    @classmethod
    def load(cls, path: Path | None = None, task_set: str | None = None) -> PassRates:
        """The user's store if it exists, else the shipped measurements; looking at
        ``task_set``, else at the set :meth:`choose` picks over all measured models."""
        path = path or default_store()
        for source in (path, SHIPPED):
            try:
                data = json.loads(source.read_text())
            except (OSError, ValueError):
                continue
            if isinstance(data, dict):
                sets = {str(n): _figures(v.get("models")) for n, v in
                        (data.get("task_sets") or {}).items() if isinstance(v, dict)}
                if "models" in data:
                    sets.setdefault(UNNAMED, _figures(data["models"]))
                store = cls(path=path, sets=sets)
                models = sorted({m for f in sets.values() for m in f.counts})
                store.task_set = task_set or store.choose(models)
                return store
        return cls(path=path, task_set=task_set or UNNAMED)

    def choose(self, model_ids: list[str]) -> str:
        """The task set to rank ``model_ids`` by: the one that measured most of them, then the
        one with the most attempts, then the first name; :attr:`task_set` when none measured
        any."""
        def key(name: str) -> tuple[int, int, str]:
            f = self.sets[name]
            measured = sum(1 for m in set(model_ids) if f.counts.get(m, {}).get("attempts"))
            return (-measured, -f.attempts(), name)
        best = min(self.sets, key=key, default=None)
        if best is None or key(best)[0] == 0:
            return self.task_set
        return best

    def record(self, model_id: str, passed: bool, task: str | None = None) -> None:
        """One attempt on :attr:`task_set`; with ``task`` (its name), the outcome is kept per
        task too (the latest attempt's), so models can be compared task by task
        (:meth:`rescues`)."""
        f = self.figures
        c = f.counts.setdefault(model_id, {"attempts": 0, "passed": 0})
        c["attempts"] += 1
        c["passed"] += int(passed)
        if task is not None:
            f.tasks.setdefault(model_id, {})[task] = passed

    def rescues(self, model_id: str, over: str) -> int | None:
        """On the tasks both have figures for, how many ``model_id`` passed and ``over``
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
        sets = {name: {"models": {m: {**c, **({"tasks": f.tasks[m]} if f.tasks.get(m) else {})}
                                  for m, c in f.counts.items()}}
                for name, f in self.sets.items() if f.counts}
        dest.write_text(json.dumps({"task_sets": sets}, indent=2, sort_keys=True))
        return dest

    def ranked(self, model_ids: list[str]) -> list[str]:
        """Best first: measured rate, then (unmeasured) parameter count."""
        def key(m: str) -> tuple[int, float, float]:
            r = self.rate(m)
            return (0 if r is not None else 1, -(r or 0.0), -model_size_hint(m))
        return sorted(model_ids, key=key)


@dataclass(frozen=True)
class Plan:
    """Who does what: the primary coder (greedy and samples), extra coders, the tester; and
    the figures the choice was made from: the task set and, per model, (passed, attempts)."""

    primary: str
    extra_coders: tuple[str, ...] = ()
    tester: str = ""
    task_set: str = ""
    figures: tuple[tuple[str, int, int], ...] = ()

    def describe(self, executors: Mapping[str, TurnExecutor]) -> dict:
        name = {r: e.model_id for r, e in executors.items()}
        return {"primary": name[self.primary], "extra_coders": [name[r] for r in self.extra_coders],
                "tester": name[self.tester or self.primary],
                "rates": {"task_set": self.task_set,
                          "models": {m: {"passed": p, "tasks": n} for m, p, n in self.figures}}}


def plan_roles(executors: Mapping[str, TurnExecutor], rates: PassRates, *,
               min_share: float = 0.5, task_set: str | None = None) -> Plan:
    """The best-measured model codes; the tester is the next-best measured model whose rate is
    at least ``min_share`` of the best's (a second opinion on behaviour, cheaper than the
    primary), else the primary. Others code too only where they pay off: their rate clears the
    same bar and, where both were measured task by task, they passed at least one task the best
    model failed (a weaker model that passes only what the best one passes adds calls, never
    passes). The figures are those of ``task_set``, else of the set :meth:`PassRates.choose`
    picks for the loaded models."""
    if not executors:
        raise ValueError("no executors given")
    by_model: dict[str, list[str]] = {}
    for role, ex in executors.items():
        by_model.setdefault(ex.model_id, []).append(role)
    rates = rates.on(task_set or rates.choose(list(by_model)))
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
    figures = tuple((m, rates.counts[m]["passed"], rates.counts[m]["attempts"])
                    for m in sorted(by_model) if m in rates.counts)
    return Plan(primary=primary, extra_coders=tuple(extras), tester=tester,
                task_set=rates.task_set if figures else "", figures=figures)
