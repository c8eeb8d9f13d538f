"""The MultiModelSession surface: add/remove models, live event feed, limits, headless ask."""

import pytest

from logomesh_tui.conversation import MultiModelSession, ResourceLimits
from logomesh_tui.conversation.consensus import ConsensusTracker, ask_policy
from logomesh_tui.conversation.messages import LLMMessage, MessageType
from logomesh_tui.errors import LogoMeshError, UnknownRoleError


async def test_live_event_feed_and_listeners(make_backend):
    s = MultiModelSession(store=False, limits=ResourceLimits(max_rounds=1))
    await s.add_model("a", make_backend("x"))
    feed = s.subscribe()
    heard = []
    s.add_listener(heard.append)
    await s.execute_collaborative_prompt("go")
    live = feed.pending()
    assert [e.kind for e in live] == [e.kind for e in heard] == [e.kind for e in s.events]
    assert live[0].kind == "session_started" and live[-1].kind == "session_finished"


async def test_remove_model_mid_session_and_replacement_counts_as_swap(make_backend):
    s = MultiModelSession(store=False, protocol="round-robin",
                          limits=ResourceLimits(max_rounds=3, consensus_threshold=1.0))
    await s.add_model("a", make_backend("x", vote_index=0))
    await s.add_model("b", make_backend("y", vote_index=1))
    await s.add_model("c", make_backend("z", vote_index=2))
    removed = []

    async def drop_c():
        await s.remove_model("c")
        await s.add_model("b", make_backend("y2", vote_index=1))
        removed.append(True)

    def on_event(e):
        if e.kind == "consensus" and e.round == 1:
            import asyncio
            asyncio.ensure_future(drop_c())

    s.add_listener(on_event)
    r = await s.execute_collaborative_prompt("go")
    assert removed
    later = [m for m in r.messages if m.round >= 3]
    assert "c" not in {m.from_role for m in later}
    assert {m.model_id for m in later if m.from_role == "b"} == {"y2"}
    kinds = [e.kind for e in s.events]
    assert "unload" in kinds and "swap" in kinds
    with pytest.raises(UnknownRoleError, match="no role 'q'"):
        await s.remove_model("q")


async def test_token_limit_stops_the_run(make_backend):
    s = MultiModelSession(store=False, protocol="round-robin",
                          limits=ResourceLimits(max_rounds=10, max_total_tokens=200,
                                                consensus_threshold=1.0))
    await s.add_model("a", make_backend("x", vote_index=0))
    await s.add_model("b", make_backend("y", vote_index=1))
    r = await s.execute_collaborative_prompt("go")
    assert r.rounds_run < 10 and s.total_tokens >= 200


async def test_bad_use_gives_one_line_errors(make_backend):
    s = MultiModelSession(store=False)
    with pytest.raises(LogoMeshError, match="no models in the session"):
        await s.execute_collaborative_prompt("go")
    await s.add_model("a", make_backend("x"))
    with pytest.raises(LogoMeshError, match="prompt is empty"):
        await s.execute_collaborative_prompt("   ")
    with pytest.raises(LogoMeshError, match="lacks model_id"):
        await s.add_model("b", object())


async def test_ask_policy_without_a_terminal_falls_back(monkeypatch):
    import io
    import sys

    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    tr = ConsensusTracker()
    a = LLMMessage(from_role="a", content="A", message_type=MessageType.PROPOSAL,
                   confidence=0.9, short_id="m1")
    tr.observe(a)
    d = await ask_policy()(tr.score(["a", "b"]), "no consensus")
    assert d.policy == "highest-score" and d.choice_id == a.id
    assert "no terminal" in d.reason
