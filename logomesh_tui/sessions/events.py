"""The session log's schema: one pydantic model per event kind, a union keyed on ``kind``.

Every line of ``sessions/<id>.jsonl`` is one event. Since schema version 2 a line carries its
version (``"v": 2``) and its payload beside the envelope (``seq``, ``kind``, ``session_id``,
``at``)::

    {"v": 2, "seq": 7, "kind": "swap", "session_id": "...", "at": "...",
     "role": "primary-analyzer", "old_model_id": "a", "new_model_id": "b", "seconds": 0.4}

Older lines are brought up to date when read, one step per version (``UPGRADES``): a line
without ``v`` is version 1, whose payload sat in a ``data`` dict. Nothing rewrites old files;
a resumed session appends version-2 lines after version-1 ones and both read back.

Adding an event kind is one class: subclass :class:`Event` with ``kind: Literal["name"]`` and
its fields; it registers itself and :func:`parse_event` accepts it from then on.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, ClassVar, Literal, Union, cast

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from .records import LLMMessage, Vote, utcnow

SCHEMA_VERSION = 2

ENVELOPE = ("v", "seq", "kind", "session_id", "at")


class Event(BaseModel):
    """What every session line has. ``seq`` and ``session_id`` are set by the recorder."""

    v: int = SCHEMA_VERSION
    seq: int = 0
    kind: str
    session_id: str = ""
    at: datetime = Field(default_factory=utcnow)

    KINDS: ClassVar[dict[str, type[Event]]] = {}

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        field = cls.model_fields.get("kind")
        args: tuple[Any, ...] = getattr(field.annotation, "__args__", ()) if field is not None else ()
        if len(args) == 1 and isinstance(args[0], str):
            Event.KINDS[args[0]] = cls
            global _ADAPTER
            _ADAPTER = None

    def payload(self) -> dict[str, Any]:
        """The event's own fields as JSON-ready data (the envelope left out; fields that were
        never given left out too, so old and new lines describe themselves the same way)."""
        return self.model_dump(mode="json", by_alias=True, exclude_unset=True,
                               exclude=set(ENVELOPE))


class SessionStarted(Event):
    kind: Literal["session_started"] = "session_started"
    participants: dict[str, str] = Field(default_factory=dict, description="role -> model id")
    protocol: str = ""
    prompt: str = ""
    task: str = Field(default="", description="the prompt with the input files, as models saw it")
    n_ctx: dict[str, int] = Field(default_factory=dict)
    input_files: list[str] = Field(default_factory=list)
    limits: dict[str, Any] = Field(default_factory=dict)
    role_weights: dict[str, float] = Field(default_factory=dict)
    role_instructions: dict[str, str] = Field(default_factory=dict)
    conversation_id: str = ""
    arbitration: str = ""


class SessionForked(Event):
    """The first line of a branch: the session shares ``parent``'s history up to and including
    message ``fork_at`` (and the votes that message carried) and goes on with
    ``participants``. The shared prefix is not copied: reading the branch reads it from the
    parent's file, so every message keeps its one id across branches."""

    kind: Literal["fork"] = "fork"
    parent: str
    fork_at: str = Field(description="the id of the last shared message")
    fork_short_id: str = ""
    prefix_seq: int = Field(default=0, description="the parent's last event seq that is shared")
    assignment: dict[str, str] = Field(default_factory=dict,
                                       description="role -> model: what the branch changed")
    participants: dict[str, str] = Field(default_factory=dict,
                                         description="role -> model after the change")
    protocol: str = ""
    limits: dict[str, Any] = Field(default_factory=dict)
    prompt: str = ""


class MessagePosted(Event):
    kind: Literal["message"] = "message"
    message: LLMMessage


class Swap(Event):
    kind: Literal["swap"] = "swap"
    role: str
    old_model_id: str | None = None
    new_model_id: str
    seconds: float | None = None
    source: str = Field(default="", description="engine | add_model | detected")
    round: int = 0


class VoteCast(Event):
    kind: Literal["vote"] = "vote"
    vote: Vote
    target_short_id: str | None = None
    message_id: str | None = Field(default=None, description="the message that carried the vote")


class ConsensusScored(Event):
    kind: Literal["consensus"] = "consensus"
    round: int = 0
    score: float = 0.0
    tied: bool = False
    leader: str | None = None
    backers: list[str] = Field(default_factory=list)
    voters: int | None = None
    converged: bool = False
    tally: dict[str, float] = Field(default_factory=dict)


class Arbitration(Event):
    kind: Literal["arbitration"] = "arbitration"
    choice_id: str
    decided_by: str = ""
    policy: str = ""
    reason: str = ""
    choice_short_id: str | None = None


class TurnFailed(Event):
    kind: Literal["failure"] = "failure"
    role: str
    model_id: str = ""
    reason: str = ""
    round: int = 0
    attempts: int = 0
    raw_tail: str | None = Field(default=None, description="the end of what the model wrote")


class TurnMetrics(Event):
    kind: Literal["turn_metrics"] = "turn_metrics"
    role: str
    model_id: str = ""
    round: int = 0
    attempt: int = 1
    prompt_tokens: int = 0
    completion_tokens: int = 0
    prompt_tokens_evaluated: int | None = None
    prompt_tokens_counted: int | None = None
    fresh_prompt: bool | None = None
    finish_reason: str = ""
    latency_s: float = 0.0
    tokens_per_s: float = 0.0
    ttft_s: float | None = None
    mean_token_prob: float | None = None


class ContextSummary(Event):
    kind: Literal["summary"] = "summary"
    role: str = ""
    model_id: str = ""
    method: str = ""
    covers: list[str] = Field(default_factory=list, description="short ids summarised")
    tokens: int | None = None
    round: int = 0


class RoleLoaded(Event):
    kind: Literal["load"] = "load"
    role: str
    model_id: str


class RoleUnloaded(Event):
    kind: Literal["unload"] = "unload"
    role: str
    model_id: str = ""


class SessionFinished(Event):
    kind: Literal["session_finished"] = "session_finished"
    consensus_score: float | None = None
    converged: bool = False
    rounds_run: int = 0
    stopped_reason: str = ""
    final_message_id: str | None = None
    final_short_id: str | None = None
    total_tokens: int = 0
    # A refactor run (codepipe) ends with what it kept instead of a consensus.
    accepted: int | None = None
    changes: int | None = None
    compiles: bool | None = None
    tokens: dict[str, Any] | None = None


class Note(Event):
    """Anything worth keeping that is not a conversation step: ``event`` names it
    (round_started, retry, no_vote, resumed, compile ...); other fields are free-form."""

    model_config = ConfigDict(extra="allow")

    kind: Literal["note"] = "note"
    event: str = ""
    text: str = ""
    role: str = ""
    model_id: str = ""
    round: int | None = None
    reason: str = ""
    name: str = Field(default="", description="a round's name (round_started)")
    speakers: list[str] = Field(default_factory=list)
    raw_tail: str | None = Field(default=None, description="what an unusable reply ended with")
    given: str | None = Field(default=None, description="an invalid vote as given (no_vote)")
    torn_tail: bool | None = Field(default=None, description="resumed after a torn last line")
    damaged_lines: list[str] = Field(default_factory=list,
                                     description="what a resumed file lost (resumed)")
    participants: dict[str, str] = Field(default_factory=dict)
    # A refactor run's verdict on each change (event "change").
    change: int | None = None
    chunk: str | None = None
    status: str | None = None


class EvidenceRecorded(Event):
    """What the evidence engine decided that is not a message (candidates, probes and verdicts
    are messages): ``event`` is ``plan`` (who codes and tests, on which file), ``selection``
    (the chosen candidate and why) or ``skipped``; other fields are the record's own."""

    model_config = ConfigDict(extra="allow")

    kind: Literal["evidence"] = "evidence"
    event: str = ""
    round: int = 0
    reason: str = ""
    chosen: str | None = Field(default=None, description="the engine's candidate id (selection)")


SessionEvent = Annotated[
    Union[SessionStarted, SessionForked, MessagePosted, Swap, VoteCast, ConsensusScored,  # noqa: UP007
          Arbitration, TurnFailed, TurnMetrics, ContextSummary, RoleLoaded, RoleUnloaded,
          SessionFinished, Note, EvidenceRecorded],
    Field(discriminator="kind")]
"""The kinds this module defines, for type checkers; :func:`parse_event` also accepts kinds
registered later by other modules."""

_ADAPTER: TypeAdapter[Any] | None = None


def _adapter() -> TypeAdapter[Any]:
    global _ADAPTER
    if _ADAPTER is None:
        kinds = tuple(Event.KINDS.values())
        union = kinds[0] if len(kinds) == 1 else Union[kinds]  # noqa: UP007
        # cast: pydantic 2.14's stubs type TypeAdapter's argument as TypeForm, which a union
        # built at run time is not to mypy; 2.13's accept it. Both run it the same way.
        _ADAPTER = TypeAdapter(cast(Any, Annotated[union, Field(discriminator="kind")]))
    return _ADAPTER


# -- versions ------------------------------------------------------------------------------

def _v1_to_v2(raw: dict[str, Any]) -> dict[str, Any]:
    """Version 1 kept the payload in ``data``; version 2 puts it beside the envelope, with a
    message under ``message`` and a vote's own fields under ``vote``."""
    data = raw.pop("data", None) or {}
    if not isinstance(data, dict):
        raise ValueError("data is not an object")
    kind = raw.get("kind")
    if kind == "message":
        raw["message"] = data
    elif kind == "vote":
        raw["vote"] = {k: v for k, v in data.items() if k in Vote.model_fields}
        for key in ("target_short_id", "message_id"):
            if key in data:
                raw[key] = data[key]
    else:
        fields = dict(data)
        if kind == "note" and "kind" in fields:
            # An early compile note named itself with "kind", which is the envelope's now.
            fields.setdefault("event", fields["kind"])
        for key, value in fields.items():
            if key not in ENVELOPE:
                raw[key] = value
    raw["v"] = 2
    return raw


UPGRADES = {1: _v1_to_v2}
"""version -> the step that turns a line of that version into the next one."""


def upgrade(raw: dict[str, Any]) -> dict[str, Any]:
    """Bring one decoded line to :data:`SCHEMA_VERSION`, one step per version."""
    version = raw.get("v", 1)
    if not isinstance(version, int) or version < 1:
        raise ValueError(f"bad schema version {version!r}")
    if version > SCHEMA_VERSION:
        raise ValueError(f"schema version {version} is newer than this program reads "
                         f"({SCHEMA_VERSION}); update logomesh-tui")
    while version < SCHEMA_VERSION:
        raw = UPGRADES[version](raw)
        version = raw["v"]
    return raw


def parse_event(raw: dict[str, Any]) -> Event:
    """A typed event from one decoded line of any schema version."""
    return _adapter().validate_python(upgrade(dict(raw)))
