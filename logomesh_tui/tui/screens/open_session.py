"""Open a recorded session: pick one from the sessions folder to replay into the timeline."""

from __future__ import annotations

from .pick import PickScreen


class OpenSessionScreen(PickScreen):
    """A PickScreen of sessions: ``sessions`` are (session id, one-line description) pairs."""

    def __init__(self, sessions: list[tuple[str, str]], **kwargs) -> None:
        options: list[tuple[str | None, str]] = list(sessions) or [
            (None, "no sessions recorded yet — start a conversation first")]
        super().__init__("Open a session", options, **kwargs)
