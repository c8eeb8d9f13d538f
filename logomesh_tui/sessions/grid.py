"""Grid runs: one scenario run once for every combination of models given for some roles.

Every combination is a branch of one root session forked before the first turn
(:data:`~.lineage.START`), so the branches share the task and differ only in their models from
the first message on: a like-for-like comparison. This module plans the grid (the cartesian
product of ``ROLE=M1,M2`` items), records the branches, and draws the chart of consensus and
passing code against tokens and wall time as a small SVG file. Running the sessions is the
front end's part (it owns the engine and the conversation runner).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from xml.sax.saxutils import escape

from ..errors import UsageError
from .lineage import START, ForkResult, fork_session

if TYPE_CHECKING:
    from .compare import Branch, Comparison
    from .store import SessionStore

Assignment = dict[str, str]


def parse_grid(items: list[str], roles: list[str]) -> dict[str, list[str]]:
    """``["ROLE=M1,M2", ...]`` as role -> models, checked against the scenario's ``roles``:
    each item names a role once, with one or more distinct models."""
    grid: dict[str, list[str]] = {}
    for item in items:
        role, sep, rest = item.partition("=")
        role = role.strip()
        models = [m.strip() for m in rest.split(",")]
        if not sep or not role:
            raise UsageError(f"bad --grid {item!r}: write ROLE=MODEL1,MODEL2, e.g. "
                             "architecture-critic=smollm2-135m,gemma-3-270m")
        if not any(models) or "" in models:
            raise UsageError(f"bad --grid {item!r}: name one or more models after {role}=, "
                             "separated by commas")
        if role not in roles:
            raise UsageError(f"--grid {item!r}: the scenario has no role {role!r}; its roles "
                             f"are {', '.join(roles)}")
        if role in grid:
            raise UsageError(f"--grid names {role!r} twice; give all its models in one item")
        if len(set(models)) != len(models):
            raise UsageError(f"--grid {item!r} names a model twice")
        grid[role] = models
    return grid


def grid_assignments(grid: dict[str, list[str]]) -> list[Assignment]:
    """The cartesian product, in the order given (the first is the root's)."""
    combos = [dict(zip(grid, models, strict=True))
              for models in itertools.product(*grid.values())]
    if len(combos) < 2:
        raise UsageError("a grid needs two or more assignments: give a role two models or "
                         "more, e.g. --grid architecture-critic=smollm2-135m,gemma-3-270m")
    return combos


def assignment_label(assignment: Assignment) -> str:
    return ", ".join(f"{role}={model}" for role, model in assignment.items())


def letter(index: int) -> str:
    """A, B, ... Z, AA, AB: the chart's name for the index-th assignment."""
    name = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        name = chr(65 + rest) + name
    return name


def fork_grid(store: SessionStore, root: str, assignments: list[Assignment]) -> list[ForkResult]:
    """Record a branch of ``root`` forked at the start for every assignment after the first
    (the root's own); each changes the roles whose model differs from the root's."""
    base = assignments[0]
    return [fork_session(store, root, START,
                         assignment={r: m for r, m in a.items() if base.get(r) != m})
            for a in assignments[1:]]


@dataclass
class GridPoint:
    """One assignment's outcome, as the chart plots it."""

    name: str
    label: str
    session: str
    score: float | None
    reached: bool
    passed: int
    verified: int
    tokens: int
    wall_s: float

    @classmethod
    def of(cls, index: int, assignment: Assignment, branch: Branch) -> GridPoint:
        return cls(letter(index), assignment_label(assignment), branch.id, branch.score,
                   branch.consensus_round is not None, len(branch.passing_artifacts()),
                   len(branch.verified_artifacts()), branch.tokens, branch.wall_s)


def grid_points(comparison: Comparison, assignments: list[Assignment]) -> list[GridPoint]:
    """The comparison's branches (root first, in assignment order) as chart points."""
    return [GridPoint.of(i, a, b)
            for i, (a, b) in enumerate(zip(assignments, comparison.branches, strict=True))]


COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b",
           "#e377c2"]
PANEL_W, PANEL_H, MARGIN = 380, 240, 56


def _round_up(value: float) -> float:
    """The axis end at or above ``value``: 1, 1.5, 2 ... 8 times a power of ten, so the
    ticks (0, half, end) are round numbers."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    return next(m * power for m in (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10) if m * power >= value)


def _panel(x0: float, title: str, xs: list[float], ys: list[float | None], y_max: float,
           x_unit: str, y_name: str, names: list[str]) -> list[str]:
    """One scatter plot: its frame, three ticks per axis and a labelled dot per point."""
    top, x_max = 40.0, _round_up(max(xs, default=0.0) * 1.05)
    out = [f'<text x="{x0}" y="{top - 14}" font-weight="bold">{escape(title)}</text>',
           f'<rect x="{x0}" y="{top}" width="{PANEL_W}" height="{PANEL_H}" fill="none" '
           'stroke="#888"/>']
    for k in range(3):
        fx, fy = x0 + PANEL_W * k / 2, top + PANEL_H * (1 - k / 2)
        out.append(f'<text x="{fx:.1f}" y="{top + PANEL_H + 16}" text-anchor="middle" '
                   f'font-size="11">{x_max * k / 2:.4g}</text>')
        out.append(f'<text x="{x0 - 6}" y="{fy + 4:.1f}" text-anchor="end" '
                   f'font-size="11">{y_max * k / 2:.3g}</text>')
    out.append(f'<text x="{x0 + PANEL_W / 2}" y="{top + PANEL_H + 34}" text-anchor="middle" '
               f'font-size="12">{escape(x_unit)}</text>')
    out.append(f'<text x="{x0 - 40}" y="{top + PANEL_H / 2}" font-size="12" '
               f'transform="rotate(-90 {x0 - 40} {top + PANEL_H / 2})" '
               f'text-anchor="middle">{escape(y_name)}</text>')
    placed: list[tuple[float, float]] = []
    for i, (x, y) in enumerate(zip(xs, ys, strict=True)):
        if y is None:
            continue
        cx = x0 + PANEL_W * x / x_max
        cy = top + PANEL_H * (1 - (y / y_max if y_max else 0))
        colour = COLOURS[i % len(COLOURS)]
        out.append(f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="5" fill="{colour}"/>')
        # Points that land together stay readable: a name sits a line further out for every
        # point already drawn there, upwards in the lower part of the panel, else downwards.
        step = 13 * sum(abs(px - cx) < 30 and abs(py - cy) < 13 for px, py in placed)
        placed.append((cx, cy))
        ty = cy - 7 - step if cy > top + PANEL_H / 3 else cy + 16 + step
        out.append(f'<text x="{cx + 8:.1f}" y="{ty:.1f}" font-size="12" '
                   f'fill="{colour}">{names[i]}</text>')
    return out


def chart_svg(points: list[GridPoint], title: str) -> str:
    """Consensus score against tokens and passing artifacts against wall time, one dot per
    assignment, with a legend naming each assignment, its numbers and its session."""
    names = [p.name for p in points]
    most = max([p.verified for p in points] + [1])
    y_passed = most + most % 2 if most > 1 else 1  # even, so the middle tick is a whole count
    body = _panel(MARGIN, "consensus score against tokens", [p.tokens for p in points],
                  [p.score for p in points], 1.0, "tokens", "consensus score", names)
    body += _panel(2 * MARGIN + PANEL_W + 20, "passing artifacts against wall time",
                   [p.wall_s for p in points], [p.passed for p in points], y_passed,
                   "wall time (s)", "artifacts passed", names)
    y = 40 + PANEL_H + 70
    legend = [f"{p.name}  {p.label}: consensus {'yes' if p.reached else 'no'} "
              f"{'-' if p.score is None else f'{p.score:.2f}'}, passed {p.passed}/{p.verified}, "
              f"{p.tokens} tokens, {p.wall_s:.1f} s ({p.session})" for p in points]
    for i, text in enumerate(legend):
        body.append(f'<text x="{MARGIN}" y="{y + 18 * i}" font-size="12" '
                    f'fill="{COLOURS[i % len(COLOURS)]}">{escape(text)}</text>')
    # The legend may be wider than the panels (about 7 pixels a character at 12 px).
    width = max([3 * MARGIN + 2 * PANEL_W + 20]
                + [MARGIN * 2 + 7 * len(t) for t in legend])
    height = y + 18 * len(points) + 10
    return "\n".join([
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="13">',
        f'<title>{escape(title)}</title>',
        f'<rect width="{width}" height="{height}" fill="white"/>', *body, "</svg>", ""])


def write_chart(path: Path, points: list[GridPoint], title: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(chart_svg(points, title), encoding="utf-8")
    return path
