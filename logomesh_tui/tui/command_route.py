"""CommandRoute: how the dashboard runs a line of the command language.

Keys, the palette and the command pane all end here: the registry shows "loading"/"swapping"
at once for the roles a command is about to change, long commands (a refactor) send their
progress to the timeline, and the outcome comes back as one reply text.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..commands import parse_script

if TYPE_CHECKING:
    from .app import LogoMeshApp

#: What the registry shows for a role while a typed command works on it.
PENDING_STATUS = {"llm.registry.load": "loading", "llm.registry.hotswap": "swapping"}
#: Commands that run long enough to report progress, which the timeline keeps.
LONG_COMMANDS = frozenset({"code.refactor"})


@dataclass
class RouteResult:
    ok: bool
    body: str
    detail: str | None
    long: bool


class CommandRoute:
    """Runs command lines through ``app.dispatcher`` and marks the roles they change."""

    def __init__(self, app: LogoMeshApp) -> None:
        self.app = app

    def mark_pending(self, text: str) -> list[str]:
        """Show "loading"/"swapping" at once for roles a typed command is about to change."""
        app = self.app
        try:
            bound = app.dispatcher.check(text)
        except Exception:  # noqa: BLE001 - the dispatcher reports the error when it runs
            return []
        roles = []
        for command in bound:
            status = PENDING_STATUS.get(command.name)
            if status:
                role = command["role"]
                app.registry_rows.mark(role, status)
                roles.append(role)
        if roles:
            app.refresh_registry()
        return roles

    @staticmethod
    def long_running(text: str) -> bool:
        try:
            return any(c.name in LONG_COMMANDS for c in parse_script(text))
        except Exception:  # noqa: BLE001 - an invalid command is reported when it runs
            return False

    async def run(self, text: str,
                  progress: Callable[[str, bool], None]) -> RouteResult:
        """Run ``text``; ``progress(line, long)`` gets each output line as it comes."""
        app = self.app
        pending = self.mark_pending(text)
        long = self.long_running(text)

        def on_output(lines: list[str]) -> None:
            for line in lines:
                progress(line, long)

        try:
            result = await app.dispatcher.run(text, on_output=on_output)
        finally:
            for role in pending:
                app.registry_rows.clear(role)
        if result.ok and long:
            # Every line already went to the timeline as progress; the pane shows the outcome.
            body = result.lines[-1] if result.lines else "ok"
        elif result.ok:
            body = "\n".join(result.lines) or "ok"
        else:
            body = result.error or "failed"
        return RouteResult(result.ok, body, result.detail, long)
