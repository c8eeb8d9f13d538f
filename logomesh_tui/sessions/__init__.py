"""Durable sessions: append-only JSONL event files, listing, reading and replay."""

from .store import (
    SessionNotFoundError,
    SessionRecorder,
    SessionStore,
    SessionSummary,
    new_session_id,
    validate_session_id,
)

__all__ = ["SessionNotFoundError", "SessionRecorder", "SessionStore", "SessionSummary",
           "new_session_id", "validate_session_id"]
