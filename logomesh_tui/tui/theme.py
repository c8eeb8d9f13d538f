"""ThemeMemory: the dashboard's dark/light toggle, remembered between runs (``state``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from textual.app import App

LIGHT_THEME = "textual-light"
DARK_THEME = "textual-dark"


class ThemeMemory:
    """Restores the last run's theme on mount and saves every change (ctrl+t or the
    palette's theme picker)."""

    def __init__(self, app: App) -> None:
        self.app = app

    def toggle(self) -> None:
        """Switch between the default (dark) theme and the light one."""
        app = self.app
        app.theme = DARK_THEME if app.theme == LIGHT_THEME else LIGHT_THEME

    def restore(self) -> None:
        """Use the theme of the last run, and remember every change from now on."""
        from .state import load_state

        app = self.app
        saved = load_state().get("theme")
        if isinstance(saved, str) and saved in app.available_themes:
            app.theme = saved
        app.theme_changed_signal.subscribe(app, self._remember)

    def _remember(self, theme: Any) -> None:
        self.app.run_worker(self._save(theme.name), group="state", exit_on_error=False)

    async def _save(self, name: str) -> None:
        from .state import save_state

        try:
            await save_state(theme=name)
        except OSError as exc:
            self.app.notify(f"could not remember the theme: {exc.strerror or exc}",
                            severity="warning")
