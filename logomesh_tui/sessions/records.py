"""The records a conversation is made of: typed messages (``LLMMessage``) and votes.

They live beside the session log because every session line that carries a message or a vote
embeds one of these; the conversation package builds them, the session package stores them.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, Field


class MessageType(StrEnum):
    ANALYSIS = "analysis"
    CRITIQUE = "critique"
    PROPOSAL = "proposal"
    QUESTION = "question"
    CONSENSUS = "consensus"
    EVIDENCE = "evidence"


def new_id() -> str:
    return uuid.uuid4().hex[:12]


def utcnow() -> datetime:
    return datetime.now(UTC)


class Artifact(BaseModel):
    """Code a message carries: a file's complete new text, or a unified diff against it."""

    kind: Literal["file", "diff"]
    path: str = Field(description="the file it is for, relative to the session's input files")
    text: str
    language: str = "ts"
    candidate_id: str = Field(default="", description="the evidence engine's id for it")


class LLMMessage(BaseModel):
    """One attributed, typed contribution to a conversation (the seed's LLMMessage).

    ``from_role`` is serialized as ``from``. ``short_id`` is what prompts show models so they
    can cite earlier messages (``m1``, ``m2`` ... in order of the conversation).
    """

    model_config = {"populate_by_name": True}

    id: str = Field(default_factory=new_id)
    short_id: str = ""
    from_role: str = Field(alias="from")
    content: str
    message_type: MessageType
    references_to: list[str] = Field(default_factory=list, description="ids of earlier messages")
    confidence: float = Field(ge=0.0, le=1.0)
    timestamp: datetime = Field(default_factory=utcnow)
    recipients: list[str] = Field(default_factory=list, description="empty: broadcast to all")
    conversation_id: str = ""
    round: int = 0
    model_id: str = ""
    prompt_tokens: int = 0
    completion_tokens: int = 0
    latency_s: float = 0.0
    self_rating: float | None = None
    token_confidence: float | None = None
    prompt_messages: list[dict[str, str]] | None = Field(
        default=None, description="the exact chat the model saw for this turn (for export)")
    meta: dict[str, Any] = Field(default_factory=dict)
    artifact: Artifact | None = Field(
        default=None, description="code this message proposes (a proposal) or judges (evidence)")
    evidence: dict[str, Any] | None = Field(
        default=None, description="for an evidence message: the verifier's verdict "
                                  "(logomesh_tui.evidence.types.Evidence as a dict, plus "
                                  "'passed' and 'failed_checks')")

    def is_visible_to(self, role: str) -> bool:
        return not self.recipients or role in self.recipients or role == self.from_role


class Vote(BaseModel):
    voter: str
    target_id: str = Field(description="id of the proposal voted for")
    weight: float = 1.0
    approve: bool = True
    round: int = 0
    rationale: str = ""
