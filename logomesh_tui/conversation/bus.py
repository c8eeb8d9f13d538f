"""The conversation bus: where attributed, typed messages are posted, kept and delivered.

It mirrors the seed's ``LLMConversationBus``. The bus owns message identity: it gives every
message its conversation id, its place (``short_id`` m1, m2 ...), its recipients, and it checks
that ``references_to`` point at earlier messages the sender could see. Delivery means "appears
in a role's prompt": :meth:`ConversationBus.visible_history` is what prompt building reads, so a
directed message reaches only its recipients (and its sender).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from ..errors import LogoMeshError, UnknownRoleError
from .messages import LLMMessage, new_id

T = TypeVar("T")


class UnknownConversationError(LogoMeshError):
    pass


@dataclass
class Conversation:
    """The state of one conversation on the bus."""

    id: str
    participants: list[str]
    messages: list[LLMMessage] = field(default_factory=list)
    by_id: dict[str, LLMMessage] = field(default_factory=dict)
    by_short: dict[str, LLMMessage] = field(default_factory=dict)


class Subscription(Generic[T]):
    """A live feed (of bus messages, or of session events) for dashboards and timelines.

    It is registered as soon as it is created, so nothing published after ``subscribe()``
    returns is missed. Iterate with ``async for``; ``close()`` (or leaving ``async with``) ends
    it. ``accept`` filters what is delivered.
    """

    _CLOSED = object()

    def __init__(self, unregister: Callable[[Subscription[T]], None],
                 accept: Callable[[T], bool] | None = None) -> None:
        self._unregister = unregister
        self._accept = accept
        self._queue: asyncio.Queue = asyncio.Queue()
        self._closed = False

    def deliver(self, item: T) -> None:
        if not self._closed and (self._accept is None or self._accept(item)):
            self._queue.put_nowait(item)

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._unregister(self)
            self._queue.put_nowait(self._CLOSED)

    def __aiter__(self) -> AsyncIterator[T]:
        return self

    async def __anext__(self) -> T:
        item = await self._queue.get()
        if item is self._CLOSED:
            raise StopAsyncIteration
        return item

    async def get(self, timeout: float | None = None) -> T:
        """The next item; raises TimeoutError after ``timeout`` seconds."""
        return await asyncio.wait_for(self.__anext__(), timeout)

    def pending(self) -> list[T]:
        """Everything queued now, without waiting."""
        out = []
        while not self._queue.empty():
            item = self._queue.get_nowait()
            if item is self._CLOSED:
                self._queue.put_nowait(item)
                break
            out.append(item)
        return out

    async def __aenter__(self) -> Subscription[T]:
        return self

    async def __aexit__(self, *exc) -> None:
        self.close()


#: Senders that are not models: the person, the orchestrator, the verifier (a program).
PROGRAM_SENDERS = ("human", "system", "verifier")


class ConversationBus:
    """Structured model-to-model messaging (the seed's ``LLMConversationBus``)."""

    def __init__(self) -> None:
        self._conversations: dict[str, Conversation] = {}
        self._subscriptions: set[Subscription[LLMMessage]] = set()
        self._last_id: str | None = None

    # -- conversations ---------------------------------------------------------------------

    def initialize_conversation(self, participants: list[str],
                                conversation_id: str | None = None) -> str:
        """Open a conversation among ``participants`` (role names); returns its id."""
        if not participants:
            raise LogoMeshError("a conversation needs at least one participant role")
        cid = conversation_id or new_id()
        self._conversations[cid] = Conversation(cid, list(dict.fromkeys(participants)))
        self._last_id = cid
        return cid

    def conversation(self, conversation_id: str | None = None) -> Conversation:
        cid = conversation_id or self._last_id
        if cid is None or cid not in self._conversations:
            raise UnknownConversationError(
                f"no conversation {cid!r} on the bus; call initialize_conversation first")
        return self._conversations[cid]

    def add_participant(self, role: str, conversation_id: str | None = None) -> None:
        conv = self.conversation(conversation_id)
        if role not in conv.participants:
            conv.participants.append(role)

    # -- posting ---------------------------------------------------------------------------

    async def send_message(self, from_role: str, to_roles: list[str],
                           message: LLMMessage) -> LLMMessage:
        """Post ``message`` from ``from_role`` to ``to_roles`` only (empty list: everyone).

        Returns the stored message (with its short id and checked references). References may
        be given as short ids (``m3``) or full ids; unknown ones, later ones and ones the sender
        could not see are dropped and listed in ``meta["invalid_references"]``.
        """
        return self.post(from_role, to_roles, message)

    async def broadcast_message(self, from_role: str, message: LLMMessage) -> LLMMessage:
        """Post ``message`` to every participant."""
        return self.post(from_role, [], message)

    def post(self, from_role: str, to_roles: list[str], message: LLMMessage) -> LLMMessage:
        """Synchronous core of :meth:`send_message` (also used when replaying a session)."""
        conv = self.conversation(message.conversation_id or None)
        if from_role not in conv.participants and from_role not in PROGRAM_SENDERS:
            raise UnknownRoleError(
                f"role {from_role!r} is not in this conversation; participants: "
                f"{', '.join(conv.participants)}")
        unknown = [r for r in to_roles if r not in conv.participants]
        if unknown:
            raise UnknownRoleError(
                f"cannot send to {', '.join(unknown)}: not participants "
                f"({', '.join(conv.participants)})")
        message = message.model_copy(deep=True)
        message.from_role = from_role
        message.conversation_id = conv.id
        message.recipients = list(dict.fromkeys(to_roles))
        if not message.short_id or message.short_id in conv.by_short:
            message.short_id = f"m{len(conv.messages) + 1}"
        if message.id in conv.by_id:
            message.id = new_id()
        valid, invalid = self.resolve_references(conv, from_role, message.references_to)
        message.references_to = valid
        if invalid:
            message.meta["invalid_references"] = invalid
        conv.messages.append(message)
        conv.by_id[message.id] = message
        conv.by_short[message.short_id] = message
        for sub in list(self._subscriptions):
            sub.deliver(message)
        return message

    def resolve_references(self, conv: Conversation, role: str,
                           refs: list[str]) -> tuple[list[str], list[str]]:
        """Split ``refs`` into (full ids of existing messages ``role`` can see, the rest)."""
        valid, invalid = [], []
        for ref in refs:
            target = conv.by_short.get(ref) or conv.by_id.get(ref)
            if target is None or not target.is_visible_to(role):
                invalid.append(ref)
            elif target.id not in valid:
                valid.append(target.id)
        return valid, invalid

    # -- reading ---------------------------------------------------------------------------

    def get_conversation_history(self, conversation_id: str | None = None) -> list[LLMMessage]:
        """Every message of the conversation, in order."""
        return list(self.conversation(conversation_id).messages)

    def visible_history(self, role: str, conversation_id: str | None = None) -> list[LLMMessage]:
        """The messages that reach ``role``'s prompt: broadcasts, its own, and those sent to it."""
        return [m for m in self.conversation(conversation_id).messages if m.is_visible_to(role)]

    def get(self, ref: str, conversation_id: str | None = None) -> LLMMessage | None:
        """A message by short id or full id."""
        conv = self.conversation(conversation_id)
        return conv.by_short.get(ref) or conv.by_id.get(ref)

    def subscribe(self, conversation_id: str | None = None) -> Subscription:
        """A live feed of new messages (of one conversation, or all when ``None``)."""
        sub: Subscription[LLMMessage] = Subscription(
            self._subscriptions.discard,
            None if conversation_id is None
            else (lambda m: m.conversation_id == conversation_id))
        self._subscriptions.add(sub)
        return sub
