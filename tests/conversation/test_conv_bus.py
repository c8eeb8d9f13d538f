import asyncio

import pytest

from logomesh_tui.conversation import ConversationBus, LLMMessage, MessageType
from logomesh_tui.errors import UnknownRoleError


def msg(content: str, refs: list[str] | None = None, t=MessageType.PROPOSAL) -> LLMMessage:
    return LLMMessage(from_role="x", content=content, message_type=t,
                      references_to=refs or [], confidence=0.5)


async def test_directed_message_reaches_only_its_recipients():
    bus = ConversationBus()
    cid = bus.initialize_conversation(["a", "b", "c"])
    await bus.broadcast_message("a", msg("hello all"))
    await bus.send_message("a", ["b"], msg("only for b"))
    assert [m.content for m in bus.visible_history("b", cid)] == ["hello all", "only for b"]
    assert [m.content for m in bus.visible_history("c", cid)] == ["hello all"]
    # The sender sees its own directed message.
    assert [m.content for m in bus.visible_history("a", cid)] == ["hello all", "only for b"]
    assert len(bus.get_conversation_history(cid)) == 2


async def test_short_ids_and_references_resolve_or_are_flagged():
    bus = ConversationBus()
    cid = bus.initialize_conversation(["a", "b", "c"])
    m1 = await bus.broadcast_message("a", msg("first"))
    m2 = await bus.send_message("a", ["b"], msg("secret"))
    m3 = await bus.broadcast_message("c", msg("cites", refs=["m1", m1.id, "m2", "m9", "zz"]))
    assert (m1.short_id, m2.short_id, m3.short_id) == ("m1", "m2", "m3")
    # m1 twice collapses to one full id; m2 was not visible to c; m9/zz do not exist.
    assert m3.references_to == [m1.id]
    assert m3.meta["invalid_references"] == ["m2", "m9", "zz"]
    assert m3.conversation_id == cid
    assert bus.get("m1").content == "first"


async def test_unknown_roles_are_rejected():
    bus = ConversationBus()
    bus.initialize_conversation(["a", "b"])
    with pytest.raises(UnknownRoleError, match="participants"):
        await bus.broadcast_message("zz", msg("x"))
    with pytest.raises(UnknownRoleError, match="cannot send to q"):
        await bus.send_message("a", ["q"], msg("x"))


async def test_subscription_sees_new_messages_live():
    bus = ConversationBus()
    first = bus.initialize_conversation(["a", "b"])
    sub = bus.subscribe()
    other = bus.initialize_conversation(["a"])
    only_other = bus.subscribe(other)
    m = msg("one")
    m.conversation_id = first
    await bus.broadcast_message("a", m)
    got = await sub.get(timeout=1)
    assert got.content == "one"
    assert only_other.pending() == []
    sub.close()
    items = [m async for m in sub]
    assert items == []
    with pytest.raises(asyncio.TimeoutError):
        await only_other.get(timeout=0.05)


def test_public_names_import_from_the_package_without_textual():
    import subprocess
    import sys

    code = ("import sys; from logomesh_tui import ConversationBus, MultiModelSession, "
            "LLMMessage, CollaborativeResponse; import logomesh_tui.sessions.timeline, "
            "logomesh_tui.cli.run, logomesh_tui.cli.sessions, logomesh_tui.scenario; "
            "print('textual' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"
