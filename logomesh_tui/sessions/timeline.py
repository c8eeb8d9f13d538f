"""A readable, attributed timeline of session events, printed with rich.

``sessions show`` replays a file through it; ``run`` feeds it live events.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.padding import Padding
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from ..conversation.messages import SessionEvent

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

    def __call__(self, event: SessionEvent) -> None:
        handler = getattr(self, f"_on_{event.kind}", None)
        if handler is not None:
            handler(event, event.data)

    def replay(self, events: list[SessionEvent]) -> None:
        for ev in events:
            self(ev)

    # -- handlers ------------------------------------------------------------------------

    def _on_session_started(self, ev: SessionEvent, d: dict[str, Any]) -> None:
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold")
        table.add_column()
        for role, model in (d.get("participants") or {}).items():
            self.models[role] = model
            table.add_row(Text(role, style=self.color(role)), model)
        prompt = str(d.get("prompt", "")).strip()
        if len(prompt) > 600:
            prompt = prompt[:600] + " ..."
        files = ", ".join(d.get("input_files") or [])
        body = Table.grid()
        body.add_row(table)
        body.add_row(Text(""))
        body.add_row(Text(prompt))
        if files:
            body.add_row(Text(f"files: {files}", style="dim"))
        when = ev.at.strftime("%Y-%m-%d %H:%M:%S UTC")
        self.console.print(Panel(
            body, title=f"session {ev.session_id}",
            subtitle=f"{d.get('protocol', '')} - started {when}", expand=True))

    def _on_note(self, ev: SessionEvent, d: dict[str, Any]) -> None:
        what = d.get("event")
        if what == "round_started":
            self.console.rule(f"Round {d.get('round')} - {d.get('name', '')}")
        elif what == "retry":
            self.console.print(Text(
                f"  retry {d.get('role')} [{d.get('model_id')}]: {d.get('reason')}",
                style="yellow"))
        elif what == "resumed":
            self.console.rule(f"resumed at round {d.get('round')}", style="yellow")
        elif what == "no_vote":
            self.console.print(Text(f"  {d.get('role')} gave no valid vote", style="dim"))
        elif d.get("text"):
            self.console.print(Text(f"  note: {d['text']}", style="dim"))

    def _on_message(self, ev: SessionEvent, d: dict[str, Any]) -> None:
        role = d.get("from", "?")
        sid = d.get("short_id", "")
        self.short[d.get("id", "")] = sid
        model = d.get("model_id") or ""
        head = Text()
        head.append(f"{sid:>4} ", style="bold")
        head.append(role, style=f"bold {self.color(role)}")
        if model:
            head.append(f" [{model}]", style="dim")
        head.append(f"  {str(d.get('message_type', '')).upper()}", style="bold")
        conf = d.get("confidence")
        if isinstance(conf, (int, float)):
            head.append(f"  conf {conf:.2f}", style="dim")
        refs = [self.short.get(r, r) for r in d.get("references_to") or []]
        if refs:
            head.append(f"  cites {', '.join(refs)}", style="italic")
        if d.get("recipients"):
            head.append(f"  to {', '.join(d['recipients'])}", style="italic")
        bad = (d.get("meta") or {}).get("invalid_references")
        if bad:
            head.append(f"  (dropped refs: {', '.join(map(str, bad))})", style="red")
        self.console.print(head)
        self.console.print(Padding(Text(str(d.get("content", ""))), (0, 0, 0, 6)))

    def _on_vote(self, ev: SessionEvent, d: dict[str, Any]) -> None:
        target = d.get("target_short_id") or self.short.get(d.get("target_id", ""), "?")
        voter = d.get("voter", "?")
        t = Text("       vote ")
        t.append(voter, style=self.color(voter))
        t.append(f" -> {target} (weight {float(d.get('weight', 0)):.2f})")
        self.console.print(t)

    def _on_consensus(self, ev: SessionEvent, d: dict[str, Any]) -> None:
        score = float(d.get("score", 0.0))
        leader = d.get("leader") or "-"
        tie = "  TIE" if d.get("tied") else ""
        backed = ""
        if "backers" in d and d.get("voters"):
            backed = f", {len(d['backers'])}/{d['voters']} roles"
        self.console.print(Text(
            f"  consensus round {d.get('round')}: {_bar(score)} {score:.2f} "
            f"(leading {leader}{backed}){tie}",
            style="bold green" if d.get("converged") else "green"))

    def _on_swap(self, ev: SessionEvent, d: dict[str, Any]) -> None:
        role = d.get("role", "?")
        self.models[role] = d.get("new_model_id", "")
        secs = d.get("seconds")
        timing = f" in {secs:.2f} s" if isinstance(secs, (int, float)) else ""
        self.console.print(Text(
            f"  hot-swap {role}: {d.get('old_model_id')} -> {d.get('new_model_id')}{timing}",
            style="bold yellow"))

    def _on_failure(self, ev: SessionEvent, d: dict[str, Any]) -> None:
        self.console.print(Text(
            f"  turn failed: {d.get('role')} [{d.get('model_id')}] round {d.get('round')}: "
            f"{d.get('reason')}", style="bold red"))

    def _on_summary(self, ev: SessionEvent, d: dict[str, Any]) -> None:
        covers = d.get("covers") or []
        span = f"{covers[0]}-{covers[-1]}" if covers else "older messages"
        self.console.print(Text(
            f"  context: {d.get('role')}'s view of {span} summarised ({d.get('method')}, "
            f"{d.get('tokens')} tokens) to fit {d.get('model_id')}", style="dim"))

    def _on_arbitration(self, ev: SessionEvent, d: dict[str, Any]) -> None:
        self.console.print(Text(
            f"  arbitration by {d.get('decided_by')}: adopt {d.get('choice_short_id')} - "
            f"{d.get('reason')}", style="bold magenta"))

    def _on_turn_metrics(self, ev: SessionEvent, d: dict[str, Any]) -> None:
        if not self.metrics:
            return
        evaluated = d.get("prompt_tokens_evaluated")
        ev_txt = f", {evaluated} evaluated" if evaluated is not None else ""
        self.console.print(Text(
            f"       {d.get('role')}: {d.get('completion_tokens')} tokens in "
            f"{float(d.get('latency_s') or 0):.2f} s ({float(d.get('tokens_per_s') or 0):.1f} "
            f"tok/s), prompt {d.get('prompt_tokens')}{ev_txt}", style="dim"))

    def _on_load(self, ev: SessionEvent, d: dict[str, Any]) -> None:
        self.models[d.get("role", "")] = d.get("model_id", "")
        self.console.print(Text(f"  {d.get('role')} joined with {d.get('model_id')}",
                                style="dim"))

    def _on_unload(self, ev: SessionEvent, d: dict[str, Any]) -> None:
        self.console.print(Text(f"  {d.get('role')} left ({d.get('model_id')})", style="dim"))

    def _on_session_finished(self, ev: SessionEvent, d: dict[str, Any]) -> None:
        score = float(d.get("consensus_score") or 0.0)
        final = d.get("final_short_id") or "-"
        self.console.print(Panel(
            Text(f"{d.get('stopped_reason')}: consensus {score:.2f} after "
                 f"{d.get('rounds_run')} rounds; adopted {final}; "
                 f"{d.get('total_tokens', 0)} tokens in all"),
            title="finished", style="bold"))
