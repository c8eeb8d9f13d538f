"""The comparison view: branches of one session side by side from their fork point.

Each branch is a column of what it recorded after the last shared message: every message's
role, model, type, confidence, references and evidence badge, the votes and each round's
consensus. Above the columns, a summary row per branch: consensus, code that passed
verification, tokens, wall time and tokens per second per role.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Label, Static

from ...sessions.compare import Branch, Comparison


def summary_cells(b: Branch, roles: list[str]) -> tuple[str, ...]:
    row = b.row()
    cons = row["consensus"]
    score = "-" if cons["score"] is None else f"{cons['score']:.2f}"
    consensus = (f"yes r{cons['round']} {score}" if cons["reached"]
                 else f"no {score}" + ("" if row["finished"] else " …"))
    speeds = " ".join(f"{s.tokens_per_s:.0f}" if s.tokens_per_s else "-"
                      for s in b.speeds.values())
    models = ", ".join(b.assignment.get(r, "-") for r in roles) or "same"
    return (b.id[-6:], models, consensus,
            f"{row['artifacts_passed']}/{row['artifacts_verified']}", str(row["tokens"]),
            f"{row['wall_s']:.1f}s", speeds or "-")


def branch_lines(b: Branch, short_of: dict[str, str]) -> Text:
    """The branch after the fork: messages with their badges, votes, consensus per round."""
    out = Text()
    votes_by_msg: dict[str, list[str]] = {}
    for v in b.votes:
        target = short_of.get(v.vote.target_id, v.target_short_id or v.vote.target_id)
        votes_by_msg.setdefault(v.message_id or "", []).append(
            f"{'+' if v.vote.approve else '-'}{target}")
    scores = {c.round: c for c in b.scores}
    last_round = None
    for m in b.messages:
        if last_round is not None and m.round != last_round and last_round in scores:
            c = scores[last_round]
            out.append(f"consensus r{c.round}: {c.score:.2f}"
                       f"{' converged' if c.converged else ''}\n", style="bold")
        last_round = m.round
        out.append(f"{m.short_id} ", style="bold")
        out.append(f"{m.from_role} ", style="cyan")
        if m.model_id:
            out.append(f"[{m.model_id}] ", style="dim")
        out.append(f"{m.message_type.value} {m.confidence:.2f}")
        if m.references_to:
            out.append(" cites " + ",".join(short_of.get(r, r) for r in m.references_to),
                       style="italic")
        if m.evidence is not None:
            ok = bool(m.evidence.get("passed"))
            out.append(" ✓" if ok else " ✗", style="green" if ok else "red")
        elif m.artifact is not None and m.id in b.verdicts:
            ok = b.verdicts[m.id]
            out.append(" code✓" if ok else " code✗", style="green" if ok else "red")
        if m.id in votes_by_msg:
            out.append(" vote " + " ".join(votes_by_msg[m.id]), style="magenta")
        out.append("\n")
        out.append(f"  {' '.join(m.content.split())[:160]}\n", style="dim")
    for rnd in sorted(r for r in scores if r >= (last_round or 0)):
        c = scores[rnd]
        out.append(f"consensus r{c.round}: {c.score:.2f}{' converged' if c.converged else ''}\n",
                   style="bold")
    if b.finished is not None:
        out.append(f"finished: {b.finished.stopped_reason or 'done'}\n", style="bold")
    return out


class CompareScreen(Screen[None]):
    """Two or more branches from their fork point; Escape goes back to the dashboard."""

    BINDINGS = [Binding("escape,q", "app.pop_screen", "Back", id="compare.back")]

    def __init__(self, comparison: Comparison, **kwargs) -> None:
        super().__init__(**kwargs)
        self.comparison = comparison

    def compose(self) -> ComposeResult:
        c = self.comparison
        shared = sum(e.kind == "message" for e in c.shared)
        yield Label(f"{len(c.branches)} branches from {c.fork_short_id} "
                    f"({shared} shared messages)", id="compare-title")
        yield DataTable(id="compare-summary", cursor_type="row", zebra_stripes=True)
        short_of = {e.message.id: e.message.short_id  # type: ignore[attr-defined]
                    for e in c.shared if e.kind == "message"}
        with Horizontal(id="compare-columns"):
            for b in c.branches:
                local = dict(short_of)
                local.update({m.id: m.short_id for m in b.messages})
                with VerticalScroll(classes="compare-branch"):
                    yield Label(Text(b.id, style="bold"), classes="compare-branch-title")
                    yield Static(branch_lines(b, local), classes="compare-branch-body")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#compare-summary", DataTable)
        roles = self.comparison.differing_roles()
        table.add_columns("branch", ", ".join(roles) or "models", "consensus", "passed",
                          "tokens", "wall", "tok/s")
        for b in self.comparison.branches:
            table.add_row(*summary_cells(b, roles), key=b.id)

    def summary_rows(self) -> list[tuple[str, ...]]:
        """What the summary table shows, one tuple per branch (for tests and screenshots)."""
        table = self.query_one("#compare-summary", DataTable)
        return [tuple(str(c) for c in table.get_row_at(i)) for i in range(table.row_count)]
