"""Open a recorded session: pick one from the sessions folder to replay into the timeline."""

from __future__ import annotations

from textual.widgets import OptionList
from textual.widgets.option_list import Option

from ...sessions.store import SessionSummary
from .pick import PickScreen

READING = "reading the sessions folder…"


def session_row(s: SessionSummary) -> tuple[str, str]:
    """One session as a (value, label) row: when, done or open, how long, what about."""
    when = s.started.strftime("%m-%d %H:%M") if s.started else "?"
    done = "done" if s.finished else "open"
    return s.id, f"{when} {done:<4} {s.message_count:>3} msgs  {s.prompt[:40]}"


class OpenSessionScreen(PickScreen):
    """A PickScreen of sessions. It opens at once with a placeholder row; the app reads the
    folder in a worker thread and hands the rows to :meth:`show_sessions`."""

    def __init__(self, **kwargs) -> None:
        super().__init__("Open a session", [(None, READING)], **kwargs)

    def show_sessions(self, summaries: list[SessionSummary]) -> None:
        if not self.is_attached:
            return  # closed before the folder was read
        self.options = [session_row(s) for s in summaries] or [
            (None, "no sessions recorded yet — start a conversation first")]
        options = self.query_one(OptionList)
        options.clear_options()
        options.add_options([Option(label, id=value, disabled=value is None)
                             for value, label in self.options])
        if summaries:
            options.highlighted = 0
