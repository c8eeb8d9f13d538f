"""ForkFlows: fork the session at the selected timeline message, and compare its branches."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from ...sessions.compare import Comparison, compare_sessions
from ...sessions.store import SessionStore
from ..screens.compare import CompareScreen
from ..screens.pick import PromptScreen
from ..widgets.timeline import TimelineEntry, TimelinePane

if TYPE_CHECKING:
    from ..app import LogoMeshApp


def family(store: SessionStore, session_id: str) -> list[str]:
    """The session to compare ``session_id`` with: its parent (or itself, for a root) first,
    then that session's branches, oldest first."""
    rows = store.list()
    by_id = {r.id: r for r in rows}
    this = by_id.get(session_id)
    root = this.parent if this is not None and this.parent in by_id else session_id
    branches = [r.id for r in reversed(rows) if r.parent == root]
    return [root, *branches]


class ForkFlows:
    """The fork dialog (ROLE=MODEL) and the comparison view."""

    def __init__(self, app: LogoMeshApp) -> None:
        self.app = app

    def selected(self) -> TimelineEntry | None:
        """The message selected in the timeline (None: an event, or nothing)."""
        timeline = self.app.query_one(TimelinePane)
        index = timeline.index
        entries = timeline.entries
        if index is None or not 0 <= index < len(entries):
            return None
        entry = entries[index]
        return entry if entry.kind == "message" else None

    def fork(self) -> None:
        app = self.app
        sid = app.runner.session_id
        if app.runner.running or not sid:
            app.command_line("fork a finished or opened session: select one of its messages "
                             "in the timeline first (F10 opens one)", ok=False)
            return
        entry = self.selected()
        if entry is None:
            app.command_line("select a message in the timeline to fork after", ok=False)
            return
        roles = [r for r in app.all_roles() if r != entry.role] or app.all_roles()

        def given(text: str | None) -> None:
            if text:
                app.dispatch("session", "fork", args=(sid,), at=entry.key, role=text)

        app.push_screen(PromptScreen(
            f"Fork after {entry.short_id or entry.key}: ROLE=MODEL (commas for more)",
            placeholder=f"{roles[0]}=qwen2.5-coder-0.5b" if roles else "ROLE=MODEL",
            hint="the branch shares the history up to this message and runs on · Esc cancel"),
            given)

    async def comparison(self, ids: list[str] | None = None) -> Comparison:
        store = SessionStore(self.app.config.sessions_dir)
        sid = self.app.runner.session_id or ""
        chosen = list(ids) if ids else await asyncio.to_thread(family, store, sid)
        return await asyncio.to_thread(compare_sessions, store, chosen)

    def compare(self, ids: list[str] | None = None) -> None:
        self.app.run_worker(self._compare(ids), group="compare", exit_on_error=False)

    async def _compare(self, ids: list[str] | None) -> None:
        app = self.app
        if not app.runner.session_id and not ids:
            app.command_line("open a session that has branches first (F10)", ok=False)
            return
        try:
            comparison = await self.comparison(ids)
        except Exception as exc:  # noqa: BLE001 - shown in the command pane, one line
            app.command_line(f"compare: {exc}", ok=False)
            return
        app.push_screen(CompareScreen(comparison))
