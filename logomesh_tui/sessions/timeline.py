"""A readable, attributed timeline of session events, printed with rich.

``sessions show`` replays a file through it; ``run`` feeds it live events.
"""

from __future__ import annotations

from rich.console import Console
from rich.padding import Padding
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from . import events as ev
from .events import Event

PALETTE = ["cyan", "magenta", "green", "yellow", "blue", "bright_red", "bright_cyan",
           "bright_magenta"]


def _bar(score: float, width: int = 12) -> str:
    filled = int(round(max(0.0, min(1.0, score)) * width))
    return "#" * filled + "-" * (width - filled)


class TimelinePrinter:
    """Prints each :class:`SessionEvent` as it comes; call it with events in order."""

    def __init__(self, console: Console | None = None, *, metrics: bool = False) -> None:
        self.console = console or Console()
        self.metrics = metrics
        self.short: dict[str, str] = {}
        self.models: dict[str, str] = {}
        self.colors: dict[str, str] = {"human": "bold white"}

    def color(self, role: str) -> str:
        if role not in self.colors:
            self.colors[role] = PALETTE[(len(self.colors) - 1) % len(PALETTE)]
        return self.colors[role]

    def __call__(self, event: Event) -> None:
        handler = getattr(self, f"_on_{event.kind}", None)
        if handler is not None:
            handler(event)

    def replay(self, events: list[Event]) -> None:
        for event in events:
            self(event)

    # -- handlers ------------------------------------------------------------------------

    def _on_session_started(self, e: ev.SessionStarted) -> None:
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold")
        table.add_column()
        for role, model in e.participants.items():
            self.models[role] = model
            table.add_row(Text(role, style=self.color(role)), model)
        prompt = e.prompt.strip()
        if len(prompt) > 600:
            prompt = prompt[:600] + " ..."
        files = ", ".join(e.input_files)
        body = Table.grid()
        body.add_row(table)
        body.add_row(Text(""))
        body.add_row(Text(prompt))
        if files:
            body.add_row(Text(f"files: {files}", style="dim"))
        when = e.at.strftime("%Y-%m-%d %H:%M:%S UTC")
        self.console.print(Panel(
            body, title=f"session {e.session_id}",
            subtitle=f"{e.protocol} - started {when}", expand=True))

    def _on_fork(self, e: ev.SessionForked) -> None:
        changed = ", ".join(f"{r}={m}" for r, m in e.assignment.items()) or "same roles"
        self.models.update(e.participants)
        self.console.rule(f"branch {e.session_id} of {e.parent} after "
                          f"{e.fork_short_id or e.fork_at}: {changed}", style="magenta")

    def _on_note(self, e: ev.Note) -> None:
        if e.event == "round_started":
            self.console.rule(f"Round {e.round} - {e.name}")
        elif e.event == "retry":
            self.console.print(Text(f"  retry {e.role} [{e.model_id}]: {e.reason}",
                                    style="yellow"))
        elif e.event == "resumed":
            self.console.rule(f"resumed at round {e.round}", style="yellow")
        elif e.event == "no_vote":
            self.console.print(Text(f"  {e.role} gave no valid vote", style="dim"))
        elif e.text:
            self.console.print(Text(f"  note: {e.text}", style="dim"))

    def _on_message(self, e: ev.MessagePosted) -> None:
        m = e.message
        role = m.from_role
        self.short[m.id] = m.short_id
        head = Text()
        head.append(f"{m.short_id:>4} ", style="bold")
        head.append(role, style=f"bold {self.color(role)}")
        if m.model_id:
            head.append(f" [{m.model_id}]", style="dim")
        head.append(f"  {m.message_type.value.upper()}", style="bold")
        head.append(f"  conf {m.confidence:.2f}", style="dim")
        refs = [self.short.get(r, r) for r in m.references_to]
        if refs:
            head.append(f"  cites {', '.join(refs)}", style="italic")
        if m.recipients:
            head.append(f"  to {', '.join(m.recipients)}", style="italic")
        bad = m.meta.get("invalid_references")
        if bad:
            head.append(f"  (dropped refs: {', '.join(map(str, bad))})", style="red")
        self.console.print(head)
        self.console.print(Padding(Text(m.content), (0, 0, 0, 6)))

    def _on_vote(self, e: ev.VoteCast) -> None:
        target = e.target_short_id or self.short.get(e.vote.target_id, "?")
        voter = e.vote.voter
        t = Text("       vote ")
        t.append(voter, style=self.color(voter))
        t.append(f" -> {target} (weight {e.vote.weight:.2f})")
        self.console.print(t)

    def _on_consensus(self, e: ev.ConsensusScored) -> None:
        leader = e.leader or "-"
        tie = "  TIE" if e.tied else ""
        backed = f", {len(e.backers)}/{e.voters} roles" if "backers" in e.model_fields_set \
            and e.voters else ""
        self.console.print(Text(
            f"  consensus round {e.round}: {_bar(e.score)} {e.score:.2f} "
            f"(leading {leader}{backed}){tie}",
            style="bold green" if e.converged else "green"))

    def _on_swap(self, e: ev.Swap) -> None:
        self.models[e.role] = e.new_model_id
        timing = f" in {e.seconds:.2f} s" if e.seconds is not None else ""
        self.console.print(Text(
            f"  hot-swap {e.role}: {e.old_model_id} -> {e.new_model_id}{timing}",
            style="bold yellow"))

    def _on_failure(self, e: ev.TurnFailed) -> None:
        self.console.print(Text(
            f"  turn failed: {e.role} [{e.model_id}] round {e.round}: {e.reason}",
            style="bold red"))

    def _on_summary(self, e: ev.ContextSummary) -> None:
        span = f"{e.covers[0]}-{e.covers[-1]}" if e.covers else "older messages"
        self.console.print(Text(
            f"  context: {e.role}'s view of {span} summarised ({e.method}, "
            f"{e.tokens} tokens) to fit {e.model_id}", style="dim"))

    def _on_arbitration(self, e: ev.Arbitration) -> None:
        self.console.print(Text(
            f"  arbitration by {e.decided_by}: adopt {e.choice_short_id} - {e.reason}",
            style="bold magenta"))

    def _on_turn_metrics(self, e: ev.TurnMetrics) -> None:
        if not self.metrics:
            return
        evaluated = e.prompt_tokens_evaluated
        ev_txt = f", {evaluated} evaluated" if evaluated is not None else ""
        self.console.print(Text(
            f"       {e.role}: {e.completion_tokens} tokens in {e.latency_s:.2f} s "
            f"({e.tokens_per_s:.1f} tok/s), prompt {e.prompt_tokens}{ev_txt}", style="dim"))

    def _on_load(self, e: ev.RoleLoaded) -> None:
        self.models[e.role] = e.model_id
        self.console.print(Text(f"  {e.role} joined with {e.model_id}", style="dim"))

    def _on_unload(self, e: ev.RoleUnloaded) -> None:
        self.console.print(Text(f"  {e.role} left ({e.model_id})", style="dim"))

    def _on_session_finished(self, e: ev.SessionFinished) -> None:
        score = e.consensus_score or 0.0
        final = e.final_short_id or "-"
        self.console.print(Panel(
            Text(f"{e.stopped_reason}: consensus {score:.2f} after "
                 f"{e.rounds_run} rounds; adopted {final}; "
                 f"{e.total_tokens} tokens in all"),
            title="finished", style="bold"))
