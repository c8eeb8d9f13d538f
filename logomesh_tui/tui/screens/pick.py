"""Small modal dialogs: pick one item from a list, or type one line."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Input, Label, OptionList
from textual.widgets.option_list import Option


class _Dialog(ModalScreen[str | None]):
    """A title, one widget (``body``) and a hint line; Escape cancels (returns None)."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="dialog.cancel")]

    def __init__(self, title: str, hint: str, **kwargs) -> None:
        super().__init__(**kwargs)
        self.title_text = title
        self.hint = hint

    def body(self) -> Widget:
        raise NotImplementedError

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self.title_text, classes="dialog-title")
            yield self.body()
            yield Label(self.hint, classes="dialog-hint")

    def action_cancel(self) -> None:
        self.dismiss(None)


class PickScreen(_Dialog):
    """A list to choose from with arrows and Enter; Escape cancels (returns None).

    ``options`` are ``(value, label)`` pairs; a value of ``None`` makes a disabled row, for
    showing why something cannot be picked.
    """

    def __init__(self, title: str, options: Sequence[tuple[str | None, str | Text]],
                 hint: str = "↑↓ choose · Enter pick · Esc cancel", highlight: str | None = None,
                 **kwargs) -> None:
        super().__init__(title, hint, **kwargs)
        self.options = options
        self.highlight = highlight

    def body(self) -> Widget:
        return OptionList(*[
            Option(label, id=value, disabled=value is None) for value, label in self.options
        ], id="pick-list")

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        options.focus()
        if self.highlight is not None:
            try:
                options.highlighted = options.get_option_index(self.highlight)
            except Exception:
                pass
        elif options.option_count:
            first = next((i for i, (v, _) in enumerate(self.options) if v is not None), None)
            options.highlighted = first

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(event.option.id)


class PromptScreen(_Dialog):
    """One line of text; Enter accepts, Escape cancels (returns None)."""

    def __init__(self, title: str, placeholder: str = "", value: str = "",
                 hint: str = "Enter accept · Esc cancel", **kwargs) -> None:
        super().__init__(title, hint, **kwargs)
        self.placeholder = placeholder
        self.value = value

    def body(self) -> Widget:
        return Input(value=self.value, placeholder=self.placeholder, id="prompt-input")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        text = event.value.strip()
        if text:
            self.dismiss(text)
