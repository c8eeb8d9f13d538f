import pytest

from logomesh_tui.conversation import MultiModelSession, ResourceLimits, get_protocol
from logomesh_tui.conversation.messages import MessageType as T
from logomesh_tui.errors import LogoMeshError


async def seat(session, roles, make_backend, **kw):
    backends = {}
    for i, role in enumerate(roles):
        backends[role] = make_backend(f"model-{i}", **kw)
        await session.add_model(role, backends[role])
    return backends


def test_registry_by_name_and_unknown_names_listed():
    assert get_protocol("four-round").name == "four-round"
    assert get_protocol("round_robin").name == "round-robin"
    with pytest.raises(LogoMeshError, match="four-round, round-robin, debate, evidence"):
        get_protocol("chaos")


async def test_four_round_order_types_and_votes(make_backend, roles):
    s = MultiModelSession(store=False, limits=ResourceLimits(max_tokens=64))
    await seat(s, roles, make_backend)
    r = await s.execute_collaborative_prompt("Analyse the component.")
    msgs = [m for m in r.messages if m.from_role != "human"]
    by_round = {}
    for m in msgs:
        by_round.setdefault(m.round, []).append(m)
    assert sorted(by_round) == [1, 2, 3, 4]
    assert {m.from_role for m in by_round[1]} == set(roles)
    assert all(m.message_type == T.PROPOSAL for m in by_round[1])
    assert all(m.message_type == T.CRITIQUE for m in by_round[2])
    # Synthesis: the first role alone merges the ideas into one proposal.
    assert [(m.from_role, m.message_type) for m in by_round[3]] == [(roles[0], T.PROPOSAL)]
    assert all(m.message_type == T.CONSENSUS for m in by_round[4])
    assert [v.voter for v in r.votes] == roles and all(v.round == 4 for v in r.votes)
    # Short ids follow the order of the conversation.
    assert [m.short_id for m in r.messages] == [f"m{i}" for i in range(1, len(r.messages) + 1)]
    assert r.rounds_run == 4 and len(r.scores) == 4
    assert set(r.contributions) >= set(roles)


async def test_references_resolve_to_earlier_visible_messages(make_backend, roles):
    s = MultiModelSession(store=False)
    await seat(s, roles, make_backend)
    r = await s.execute_collaborative_prompt("Analyse.")
    position = {m.id: i for i, m in enumerate(r.messages)}
    cited = 0
    for i, m in enumerate(r.messages):
        for ref in m.references_to:
            assert ref in position and position[ref] < i
            cited += 1
    assert cited >= 8


async def test_invalid_references_from_a_model_are_dropped_and_flagged(make_backend, roles):
    import json

    def liar(req, b):
        if req.json_schema is None:
            return "summary"
        return json.dumps({"message_type": req.json_schema["properties"]["message_type"]
                           ["enum"][0], "content": "see m99", "references": ["m99", "m1"],
                           "confidence": 0.5, "vote": "m1"})

    s = MultiModelSession(store=False, limits=ResourceLimits(max_rounds=2))
    await s.add_model("a", make_backend("x", responder=liar))
    await s.add_model("b", make_backend("y", responder=liar))
    r = await s.execute_collaborative_prompt("go")
    first_round = [m for m in r.messages if m.round == 1]
    # In round 1 nothing existed yet: both references are invalid.
    assert all(m.references_to == [] for m in first_round)
    assert all(set(m.meta["invalid_references"]) == {"m99", "m1"} for m in first_round)
    later = [m for m in r.messages if m.round == 2 and m.from_role != "human"]
    assert all(m.references_to == [r.messages[0].id] for m in later)
    assert all(m.meta["invalid_references"] == ["m99"] for m in later)


async def test_round_robin_speakers_see_earlier_turns_of_the_same_round(make_backend, roles):
    s = MultiModelSession(protocol="round-robin", store=False,
                          limits=ResourceLimits(max_rounds=1))
    backends = await seat(s, roles[:3], make_backend)
    await s.execute_collaborative_prompt("Discuss.")
    last_prompt = "\n".join(m["content"] for m in backends[roles[2]].requests[0].messages)
    assert "[m1]" in last_prompt and "[m2]" in last_prompt


async def test_four_round_propose_round_is_independent(make_backend, roles):
    s = MultiModelSession(store=False, limits=ResourceLimits(max_rounds=1, concurrency=1))
    backends = await seat(s, roles, make_backend)
    await s.execute_collaborative_prompt("Propose.")
    # Even run one at a time, later speakers do not see earlier round-1 proposals.
    for b in backends.values():
        text = "\n".join(m["content"] for m in b.requests[0].messages)
        assert "[m1]" not in text


async def test_debate_rebuttals_are_directed(make_backend, roles):
    s = MultiModelSession(protocol="debate", store=False)
    await seat(s, roles[:3], make_backend)
    r = await s.execute_collaborative_prompt("Hooks or classes?")
    rebuttals = [m for m in r.messages if m.round == 2]
    assert [m.from_role for m in rebuttals] == roles[:2]
    assert rebuttals[0].recipients == [roles[1], roles[2]]
    assert rebuttals[1].recipients == [roles[0], roles[2]]
    judges = [m for m in r.messages if m.round == 3]
    assert [m.from_role for m in judges] == [roles[2]]
    assert r.votes and r.votes[0].voter == roles[2]
    # Only the judge's vote counts: one judge backing one proposal is a consensus.
    assert r.converged and r.consensus_score == 1.0 and r.arbitration is None
