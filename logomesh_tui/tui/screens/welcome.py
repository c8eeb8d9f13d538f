"""Start: nothing is loaded yet. Offer the configured roles and the bundled example in one key."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label

EXAMPLE = "example"   # load the roles, then run the example conversation
LOAD = "load"         # only load the roles


class WelcomeScreen(ModalScreen[str | None]):
    """Lists ``roles`` (role -> model, from the config's ``[roles]``) and dismisses with
    ``"example"`` (Enter), ``"load"`` (l) or None (Esc). ``example`` names the example
    conversation offered, or is None when there is none to offer."""

    BINDINGS = [
        Binding("enter", "choose('example')", "Load and run the example", id="welcome.example"),
        Binding("l", "choose('load')", "Only load the roles", id="welcome.load"),
        Binding("escape,n", "choose(None)", "Start empty", id="welcome.skip"),
    ]

    def __init__(self, roles: dict[str, str], example: str | None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.roles = roles
        self.example = example

    def compose(self) -> ComposeResult:
        width = max(len(r) for r in self.roles)
        with Vertical(classes="dialog welcome"):
            yield Label("Welcome to LogoMesh", classes="dialog-title")
            yield Label("Your roles (the [roles] table of config.toml):", markup=False)
            for role, model in self.roles.items():
                yield Label(f"  {role:<{width}}  {model}", classes="welcome-role", markup=False)
            if self.example:
                yield Label(f"Enter: load them and run the example conversation ({self.example})",
                            markup=False)
            yield Label("l: only load them · Esc: start with nothing loaded",
                        classes="dialog-hint")

    def action_choose(self, choice: str | None) -> None:
        if choice == EXAMPLE and not self.example:
            choice = LOAD
        self.dismiss(choice)
