"""The structured messages models exchange (defined with the session log, which stores them)."""

from ..sessions.records import Artifact, LLMMessage, MessageType, Vote, new_id, utcnow

__all__ = ["Artifact", "LLMMessage", "MessageType", "Vote", "new_id", "utcnow"]
