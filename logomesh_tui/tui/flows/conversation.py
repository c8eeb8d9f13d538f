"""ConversationFlows: start, export, open and refactor, and a timeline entry's detail."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...commands.table import EXPORT_FORMATS, PROTOCOLS
from ...errors import LogoMeshError
from ...sessions.store import SessionStore
from ..screens.detail import MessageDetailScreen
from ..screens.open_session import OpenSessionScreen
from ..screens.pick import PickScreen, PromptScreen
from ..widgets.timeline import TimelineEntry, TimelinePane

if TYPE_CHECKING:
    from ..app import LogoMeshApp


class ConversationFlows:
    """The dialogs in front of the conversation commands."""

    def __init__(self, app: LogoMeshApp) -> None:
        self.app = app

    def start(self) -> None:
        """Ask for the prompt, then the protocol, and start; resume when paused."""
        app = self.app
        if app.conversation_state == "paused":
            app.dispatch("conversation", "resume")
            return
        if app.conversation_state == "running":
            app.command_line("a conversation is running; F7 stops it", ok=False)
            return
        if not app.loaded_roles():
            app.command_line("load at least one model first (F2)", ok=False)
            return

        def protocol_picked(prompt: str, protocol: str | None) -> None:
            if protocol:
                app.dispatch("conversation", "start", args=(prompt,), protocol=protocol)

        def prompt_given(prompt: str | None) -> None:
            if prompt:
                app.push_screen(
                    PickScreen("Protocol", [(p, p) for p in PROTOCOLS], highlight=PROTOCOLS[0]),
                    lambda protocol: protocol_picked(prompt, protocol))

        app.push_screen(PromptScreen("What should the models work on?",
                                     placeholder="Analyse @src/components/Cart.tsx for "
                                                 "performance… (@ attaches a file or folder)"),
                        prompt_given)

    def export(self) -> None:
        """Pick the format, name the file, export."""
        app = self.app

        def named(fmt: str, name: str | None) -> None:
            if name:
                app.dispatch("conversation", "export", args=(name,), format=fmt)

        def format_picked(fmt: str | None) -> None:
            if fmt:
                app.push_screen(PromptScreen(f"Export as {fmt}: file name",
                                             value=app.runner.session_id or "conversation"),
                                lambda name: named(fmt, name))

        app.push_screen(PickScreen("Export format", [(f, f) for f in EXPORT_FORMATS],
                                   highlight=EXPORT_FORMATS[0]), format_picked)

    def open_session(self) -> None:
        """Pick a recorded session (the list fills from a worker thread) and open it."""
        app = self.app

        def picked(session_id: str | None) -> None:
            if session_id:
                app.dispatch("session", "open", args=(session_id,))

        screen = OpenSessionScreen()
        app.push_screen(screen, picked)
        app.run_worker(lambda: self._read_sessions(screen), name="read_sessions",
                       group="sessions", exclusive=True, thread=True, exit_on_error=False)

    def _read_sessions(self, screen: OpenSessionScreen) -> None:
        """Summarise the sessions folder off the UI loop, then fill ``screen``."""
        try:
            summaries = SessionStore(self.app.config.sessions_dir).list()
        except (OSError, LogoMeshError):
            summaries = []
        self.app.call_from_thread(screen.show_sessions, summaries)

    def refactor(self, path: str | None) -> None:
        """Refactor ``path`` with the loaded roles (asks for it unless given)."""
        app = self.app

        def given(path: str | None) -> None:
            if path:
                app.dispatch("code", "refactor", args=(path,))

        if path:
            given(path)
            return
        if not app.loaded_roles():
            app.command_line("load at least one model first (F2); the loaded roles refactor",
                             ok=False)
            return
        app.push_screen(PromptScreen("Refactor which .ts/.tsx file or folder?",
                                     placeholder="examples/Dashboard.tsx",
                                     hint="Enter refactor · Esc cancel · output: refactor-out/"),
                        given)

    def open_entry(self, entry: TimelineEntry) -> None:
        """A timeline entry in full, with the entries it cites (Enter on one jumps to it)."""
        app = self.app
        timeline = app.query_one(TimelinePane)
        refs = [e for e in (timeline.entry_for(r) for r in entry.references) if e]

        def jump(key: str | None) -> None:
            if key:
                timeline.focus()
                timeline.select_key(key)

        app.push_screen(MessageDetailScreen(entry, refs, timeline.short_of), jump)
