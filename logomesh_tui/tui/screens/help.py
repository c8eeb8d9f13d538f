"""Help: the keys (as remapped by the user's keymap) and the command language."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static


def command_rows() -> list[tuple[str, str]]:
    """(example, summary) for every command the DevShell language knows."""
    from ...commands import COMMANDS

    return [(spec.example, spec.summary) for spec in COMMANDS]


class HelpScreen(ModalScreen[None]):
    """Shows ``keys`` — (key, binding id, description) rows — and the command language."""

    BINDINGS = [
        Binding("escape,f1,q", "close", "Close", id="dialog.close"),
    ]

    def __init__(self, keys: list[tuple[str, str, str]], commands: list[tuple[str, str]] | None = None,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        self.keys = keys
        self.commands = commands or command_rows()

    def compose(self) -> ComposeResult:
        keys = Table.grid(padding=(0, 2))
        keys.add_column(style="bold cyan", no_wrap=True)
        keys.add_column()
        keys.add_column(style="dim")
        for key, binding_id, description in self.keys:
            keys.add_row(key, description, binding_id)
        cmds = Table.grid(padding=(0, 2))
        cmds.add_column(style="bold", overflow="fold")
        cmds.add_column()
        for syntax, description in self.commands:
            cmds.add_row(syntax, description)
        with VerticalScroll(classes="dialog help"):
            yield Label("LogoMesh — keys", classes="dialog-title")
            yield Static(keys)
            yield Label("Command pane (DevShell)", classes="dialog-title")
            yield Static(cmds)
            yield Static(Text(
                "Tab moves between panes; in the registry, arrows pick the role the keys act on; "
                "in the timeline, Enter opens a message. Remap keys in the config file: "
                "[keymap] <binding id> = \"key\".", style="dim"))
            yield Label("Esc / F1 close", classes="dialog-hint")

    def action_close(self) -> None:
        self.dismiss(None)
