"""Human arbitration: the competing proposals and their votes; the person picks one."""

from __future__ import annotations

from dataclasses import dataclass, field

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList, Static
from textual.widgets.option_list import Option


@dataclass
class Proposal:
    """One candidate: a message id, who proposed it, what it says and the votes it got."""

    id: str
    role: str
    content: str
    short_id: str = ""
    model_id: str = ""
    votes_for: float = 0.0
    voters: list[str] = field(default_factory=list)


class ArbitrationScreen(ModalScreen[str | None]):
    """Returns the chosen proposal's id; Escape leaves the decision to the session's policy
    (returns None)."""

    BINDINGS = [Binding("escape", "defer", "Leave to policy", id="arbitration.defer")]

    def __init__(self, proposals: list[Proposal], reason: str = "", **kwargs) -> None:
        super().__init__(**kwargs)
        self.proposals = proposals
        self.reason = reason

    def _label(self, p: Proposal) -> Text:
        text = Text()
        text.append(f"{p.short_id or p.id[:6]} ", style="dim")
        text.append(p.role, style="bold")
        if p.model_id:
            text.append(f" · {p.model_id}", style="dim")
        backers = len(p.voters)
        text.append(f"  weight {p.votes_for:g} · {backers} backer{'s' if backers != 1 else ''}",
                    style="green" if backers else "dim")
        return text

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog arbitration"):
            yield Label("Arbitration needed — pick the proposal to adopt", classes="dialog-title")
            if self.reason:
                yield Label(self.reason, classes="dialog-hint")
            yield OptionList(*[Option(self._label(p), id=p.id) for p in self.proposals],
                             id="proposals")
            with VerticalScroll(id="proposal-body"):
                yield Static("", id="proposal-text", markup=False)
            yield Label("↑↓ compare · Enter adopt · Esc leave to policy", classes="dialog-hint")

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        options.focus()
        if self.proposals:
            options.highlighted = 0
            self._show(self.proposals[0])

    def _show(self, p: Proposal) -> None:
        voters = ", ".join(p.voters) if p.voters else "no votes"
        self.query_one("#proposal-text", Static).update(
            Text(p.content) + Text(f"\n\nvoted by: {voters}", style="dim"))

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        for p in self.proposals:
            if p.id == event.option.id:
                self._show(p)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(event.option.id)

    def action_defer(self) -> None:
        self.dismiss(None)
