"""`logomesh-tui run SCENARIO --grid ROLE=M1,M2 [--grid ...]`: one run per combination of
models, every run a branch of one root, then the comparison table and the chart.

The first combination runs as the root (the scenario with those models); every other one is
a branch of the root forked before the first turn and resumed on the same engine, which keeps
a role's loaded model or hot-swaps it, so workers are reused from one run to the next.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from pathlib import Path
from typing import Any

from rich import box
from rich.console import Console, Group
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table
from rich.text import Text

from ..config import EngineConfig
from ..conversation.consensus import arbitration_policy
from ..conversation.runner import ConversationRunner
from ..errors import EXIT_OK, UsageError
from ..sessions.compare import compare_sessions
from ..sessions.grid import (
    Assignment,
    GridPoint,
    assignment_label,
    fork_grid,
    grid_assignments,
    grid_points,
    letter,
    parse_grid,
    write_chart,
)
from ..sessions.store import SessionStore
from .fork import check_models, comparison_table
from .run import ProgressView, make_engine, outcome_code, prepare_scenario


def plan_grid(items: list[str], scenario: Any, config: EngineConfig) -> list[Assignment]:
    """The assignments ``--grid`` asks for, every model checked with the catalog before
    anything loads."""
    grid = parse_grid(items, list(scenario.roles))
    for role, models in grid.items():
        for model in models:
            check_models({role: model}, config, flag="--grid")
    return grid_assignments(grid)


class _Line:
    """What :class:`ProgressView` updates: the progress bar's detail field."""

    def __init__(self, progress: Progress, task: Any) -> None:
        self.progress, self.task = progress, task

    def update(self, text: str) -> None:
        self.progress.update(self.task, detail=text)


class GridRun:
    """The grid's sessions in assignment order (the root first) as they are recorded."""

    def __init__(self, scenario: Any, inputs: dict[str, str], limits: Any,
                 config: EngineConfig, args: argparse.Namespace,
                 assignments: list[Assignment]) -> None:
        self.scenario, self.inputs, self.limits = scenario, inputs, limits
        self.config, self.args, self.assignments = config, args, assignments
        self.store = SessionStore(config.sessions_dir)
        self.ids: list[str] = []
        self.finished: list[str] = []
        self.codes: list[int] = []

    def roles_for(self, assignment: Assignment) -> dict[str, str]:
        return {r: assignment.get(r, s.model) for r, s in self.scenario.roles.items()}

    async def load(self, engine: Any, roles: dict[str, str], line: _Line) -> None:
        """Load (or keep, or hot-swap) every role's model, one after another."""
        for role, model in roles.items():
            line.update(f"loading {model} as {role}")
            await engine.load_model(model, role)
        line.update("waiting for the first turn ...")

    async def run_root(self, engine: Any, runner: ConversationRunner, line: _Line) -> Any:
        await self.load(engine, self.roles_for(self.assignments[0]), line)
        session = await prepare_scenario(runner, self.scenario, self.limits,
                                         self.args.arbitration, self.inputs)
        self.ids.append(session.session_id)
        response = await runner.run(session, self.scenario.prompt)
        self.fork_rest()
        return response

    def fork_rest(self) -> None:
        """Record the branches for the other assignments (once the root has started)."""
        if len(self.ids) == 1:
            self.ids += [f.id for f in fork_grid(self.store, self.ids[0], self.assignments)]

    async def run_branch(self, engine: Any, runner: ConversationRunner, line: _Line,
                         sid: str) -> Any:
        session = await runner.restore(sid, arbitration=self.args.arbitration)
        # The file records the input files' names, not their text: the evidence round needs
        # the text to write and check code, as the root had it.
        session.input_files = dict(self.inputs)
        await self.load(engine, session.participants(), line)
        await runner.seat_restored(session)
        return await runner.run(session)

    async def run(self, console: Console) -> None:
        engine = make_engine(self.config, self.args.fake)
        runner = ConversationRunner(engine, self.config, ask=arbitration_policy("ask"))
        # The "ask" policy reads from this terminal; a live bar would overwrite its prompt.
        live = console.is_terminal and (self.args.arbitration or self.scenario.arbitration) != "ask"
        progress = Progress(SpinnerColumn(), TextColumn("{task.description}"),
                            BarColumn(bar_width=20),
                            MofNCompleteColumn(), TimeElapsedColumn(),
                            TextColumn("[dim]{task.fields[detail]}"), console=console,
                            disable=not live)
        try:
            with progress:
                task = progress.add_task("grid", total=len(self.assignments), detail="")
                line = _Line(progress, task)
                runner.attach(ProgressView(line))
                for i, assignment in enumerate(self.assignments):
                    # The bar names the models only; the line printed after the run names roles.
                    progress.update(task, description=f"{letter(i)} {' · '.join(assignment.values())}")
                    began = time.monotonic()
                    response = (await self.run_root(engine, runner, line) if i == 0 else
                                await self.run_branch(engine, runner, line, self.ids[i]))
                    self.codes.append(outcome_code(response))
                    self.finished.append(self.ids[i])
                    progress.advance(task)
                    console.print(Text(f"{letter(i)} {assignment_label(assignment)}: "
                                       f"{'root' if i == 0 else 'branch'} {self.ids[i]} in "
                                       f"{time.monotonic() - began:.1f} s", style="dim"))
        except (asyncio.CancelledError, KeyboardInterrupt):
            self.interrupted(console)
            raise
        finally:
            await engine.close()

    def interrupted(self, console: Console) -> None:
        """Say what is recorded and how to finish the grid: every assignment has a session
        once the root has started, so each unfinished one resumes on its own."""
        if self.ids:
            try:
                self.fork_rest()
            except UsageError:  # the root recorded nothing yet: there is nothing to fork
                pass
        left = [sid for sid in self.ids if sid not in self.finished]
        console.print(Text(f"interrupted; {len(self.finished)} of {len(self.assignments)} "
                           "assignments finished and recorded", style="yellow"))
        if len(self.ids) < len(self.assignments):
            console.print(Text("nothing of the grid was recorded; run it again", style="yellow"))
            return
        for sid in left:
            console.print(Text(f"continue with: logomesh-tui resume {sid}", style="yellow"))
        console.print(Text(f"then compare: logomesh-tui compare {' '.join(self.ids)}",
                           style="yellow"))


def bar(value: float, top: float, width: int = 12) -> str:
    """``value`` of ``top`` as a bar of ``width`` cells, in eighths of a cell."""
    eighths = round(8 * width * value / top) if top > 0 else 0
    full, part = divmod(max(0, min(eighths, 8 * width)), 8)
    return ("█" * full + (" ▏▎▍▌▋▊▉"[part] if part else "")).ljust(width)


def chart_table(points: list[GridPoint]) -> Group:
    """The chart in the terminal: per assignment, consensus and passing artifacts beside its
    tokens and wall time, each as a bar scaled to the grid's largest, under a legend."""
    legend = Table.grid(padding=(0, 2))
    for p in points:
        legend.add_row(p.name, p.label, Text(p.session, style="dim"))
    table = Table(title="consensus and passing artifacts against tokens and wall time",
                  box=box.SIMPLE_HEAD, pad_edge=False)
    for name in ("", "consensus", "passed", "tokens", "wall"):
        table.add_column(name, no_wrap=True)
    most_passed = max([p.verified for p in points] + [1])
    most_tokens = max([p.tokens for p in points] + [1])
    longest = max([p.wall_s for p in points] + [1e-9])
    for p in points:
        score = "-" if p.score is None else f"{p.score:.2f}"
        table.add_row(p.name,
                      f"[green]{bar(p.score or 0.0, 1.0, 10)}[/] {score}"
                      + (" ✓" if p.reached else "  "),
                      f"[green]{bar(p.passed, most_passed, 6)}[/] {p.passed}/{p.verified}",
                      f"[cyan]{bar(p.tokens, most_tokens, 10)}[/] {p.tokens}",
                      f"[cyan]{bar(p.wall_s, longest, 10)}[/] {p.wall_s:.1f}s")
    return Group(table, legend)


async def run_grid(scenario: Any, inputs: dict[str, str], limits: Any, config: EngineConfig,
                   args: argparse.Namespace, console: Console,
                   assignments: list[Assignment]) -> int:
    """Run the grid, then print the comparison table and the chart and write the SVG."""
    grid = GridRun(scenario, inputs, limits, config, args, assignments)
    await grid.run(console)
    comparison = compare_sessions(grid.store, grid.ids)
    points = grid_points(comparison, assignments)
    root = grid.ids[0]
    chart = Path(args.chart) if args.chart else Path(config.sessions_dir) / f"grid-{root}.svg"
    write_chart(chart, points, f"{scenario.name or 'grid'}: {len(points)} assignments "
                               f"from the start of {root}")
    code = EXIT_OK if all(c == EXIT_OK for c in grid.codes) else max(grid.codes)
    if args.json:
        rows = comparison.as_json()["branches"]
        print(json.dumps({"root": root, "fork_at": comparison.fork_at, "chart": str(chart),
                          "branches": [{"name": p.name, "grid": a, **row} for p, a, row
                                       in zip(points, assignments, rows, strict=True)]},
                         indent=2))
        return code
    console.print(comparison_table(comparison))
    console.print(chart_table(points))
    console.print(Text(f"chart saved: {chart}  (root {root}; logomesh-tui compare "
                       f"{' '.join(grid.ids)})", style="dim"))
    return code
