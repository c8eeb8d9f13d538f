"""Command pane: a DevShell prompt with history (up/down), completion (tab or right arrow) of
command names, roles and models, and the last result or error shown under it."""

from __future__ import annotations

from collections.abc import Callable

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.suggester import Suggester
from textual.widgets import Input, Static

Completer = Callable[[str], list[str]]
"""text before the cursor -> whole-line completions, best first."""


class CommandSuggester(Suggester):
    """Shows the best completion as grey text; right arrow or tab accepts it."""

    def __init__(self, completer: Completer) -> None:
        super().__init__(use_cache=False, case_sensitive=True)
        self._completer = completer

    async def get_suggestion(self, value: str) -> str | None:
        try:
            candidates = self._completer(value)
        except Exception:  # noqa: BLE001 - completion must never break typing
            return None
        return next((c for c in candidates if c.startswith(value) and c != value), None)


class CommandInput(Input):
    """The prompt line. Up/down walk the history; tab accepts the completion."""

    BINDINGS = [
        Binding("up", "history(-1)", "Previous", show=False, id="command.history_prev"),
        Binding("down", "history(1)", "Next", show=False, id="command.history_next"),
        Binding("tab", "complete", "Complete", show=False, id="command.complete"),
    ]

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.history: list[str] = []
        self._pos: int | None = None
        self._draft = ""

    def remember(self, line: str) -> None:
        if line and (not self.history or self.history[-1] != line):
            self.history.append(line)
        self._pos = None
        self._draft = ""

    def action_history(self, step: int) -> None:
        if not self.history:
            return
        if self._pos is None:
            if step > 0:
                return
            self._draft = self.value
            self._pos = len(self.history)
        self._pos = max(0, min(len(self.history), self._pos + step))
        self.value = self._draft if self._pos == len(self.history) else self.history[self._pos]
        if self._pos == len(self.history):
            self._pos = None
        self.cursor_position = len(self.value)

    def on_key(self, event: events.Key) -> None:
        # ":" focuses this line from anywhere; typed again at the start of an empty line (as a
        # vim user does before every command) it is that same prefix, not part of the command.
        if event.character == ":" and not self.value:
            event.prevent_default()
            event.stop()

    async def action_complete(self) -> None:
        suggestion = await self.suggester.get_suggestion(self.value) if self.suggester else None
        if suggestion:
            self.value = suggestion
            self.cursor_position = len(self.value)
        else:
            # Nothing to complete: tab keeps its usual meaning and moves focus on.
            self.screen.focus_next()


class CommandPane(Vertical):
    """The prompt and its result line. Posts ``Submitted`` with the command text."""

    DEFAULT_CSS = """
    CommandPane { height: auto; }
    CommandPane > CommandInput, CommandPane > CommandInput:focus {
        border: none; height: 1; padding: 0 1;
    }
    CommandPane > #command-result { height: 1; padding: 0 1; color: $text-muted; }
    CommandPane > #command-result.error { color: $error; text-style: bold; }
    """

    class Submitted(Message):
        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    def __init__(self, completer: Completer, **kwargs) -> None:
        super().__init__(**kwargs)
        self._suggester = CommandSuggester(completer)

    def compose(self) -> ComposeResult:
        yield CommandInput(
            placeholder='llm.registry.load("smollm2-135m", "primary-analyzer")',
            suggester=self._suggester, id="command-input")
        yield Static("F1 help · ctrl+p palette · : to type a command", id="command-result",
                     markup=False)

    def on_mount(self) -> None:
        self.border_title = "DevShell"

    @property
    def input(self) -> CommandInput:
        return self.query_one(CommandInput)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        text = event.value.strip()
        if not text:
            return
        self.input.remember(text)
        self.input.value = ""
        self.show_result(f"… {text}", ok=True)
        self.post_message(self.Submitted(text))

    def show_result(self, text: str, ok: bool) -> None:
        line = self.query_one("#command-result", Static)
        first = text.strip().splitlines()[0] if text.strip() else ""
        line.update(Text(first if ok else f"error: {first}"))
        line.set_class(not ok, "error")
