"""A timeline entry shown whole, with the messages it refers to; Enter on one jumps there."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.syntax import Syntax
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList, Static
from textual.widgets.option_list import Option

from ..widgets.timeline import TimelineEntry, describe_event


class MessageDetailScreen(ModalScreen[str | None]):
    """Returns the key of a referenced message to jump to, or None."""

    BINDINGS = [Binding("escape,q,enter", "close", "Close", id="dialog.close")]

    def __init__(self, entry: TimelineEntry, references: list[TimelineEntry],
                 short_of: dict[str, str] | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.short_of = short_of or {}
        self.entry = entry
        self.references = references

    def compose(self) -> ComposeResult:
        e = self.entry
        if e.kind == "event":
            assert e.event is not None
            title = f"{e.event_kind}"
            body = Text(describe_event(e.event, self.short_of) + "\n")
            for key, value in e.event.payload().items():
                body.append(f"\n{key}: ", style="bold")
                body.append(str(value))
        else:
            conf = f" · confidence {e.confidence:.2f}" if e.confidence is not None else ""
            title = (f"{e.short_id + ' ' if e.short_id else ''}{e.message_type or 'streaming'} "
                     f"from {e.role} ({e.model_id}){conf} · round {e.round}")
            body = Text(e.content)
        shown: RenderableType = body
        if e.kind == "message" and e.artifact is not None:
            lang = "diff" if e.artifact.get("kind") == "diff" else "typescript"
            if str(e.artifact.get("path", "")).endswith(".tsx"):
                lang = "tsx"
            shown = Group(body, Text(f"\n{e.artifact.get('path', '')}:", style="bold"),
                          Syntax(str(e.artifact.get("text", "")), lang, line_numbers=True,
                                 word_wrap=True))
        with Vertical(classes="dialog detail"):
            yield Label(title, classes="dialog-title")
            with VerticalScroll(id="detail-body"):
                yield Static(shown, markup=False)
            if self.references:
                yield Label("Refers to (Enter jumps there):", classes="dialog-hint")
                yield OptionList(*[
                    Option(Text(f"{r.short_id or r.key[:6]} {r.role}: ")
                           + Text(r.content.replace("\n", " ")[:70], style="dim"), id=r.key)
                    for r in self.references], id="references")
            yield Label("Esc close", classes="dialog-hint")

    def on_mount(self) -> None:
        if self.references:
            self.query_one(OptionList).focus()
        else:
            self.query_one("#detail-body").focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(event.option.id)

    def action_close(self) -> None:
        self.dismiss(None)
