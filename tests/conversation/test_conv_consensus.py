import pytest

from logomesh_tui.conversation import LLMMessage, MultiModelSession, ResourceLimits
from logomesh_tui.conversation.consensus import (
    ArbitrationDecision,
    ConsensusTracker,
    arbitration_policy,
    ask_policy,
)
from logomesh_tui.conversation.messages import MessageType as T
from logomesh_tui.errors import LogoMeshError

_counter = iter(range(1, 10_000))


def proposal(role, conf=1.0, refs=(), t=T.PROPOSAL):
    n = next(_counter)
    return LLMMessage(id=f"id{n}", short_id=f"m{n}", from_role=role, content=role,
                      message_type=t, confidence=conf, references_to=list(refs))


def test_scores_own_proposals_support_and_votes():
    roles = ["a", "b", "c", "d"]
    tr = ConsensusTracker(threshold=0.75)
    props = {r: proposal(r) for r in roles}
    for m in props.values():
        tr.observe(m)
    st = tr.score(roles)
    assert st.score == 0.25 and st.tied
    # b endorses a's proposal (an analysis citing it): 2 of 4 equal voices.
    tr.observe(proposal("b", t=T.ANALYSIS, refs=[props["a"].id]))
    st = tr.score(roles)
    assert st.score == 0.5 and st.leader.message is props["a"] and not st.tied
    # A critique does not change b's support.
    tr.observe(proposal("b", t=T.CRITIQUE, refs=[props["c"].id]))
    assert tr.score(roles).score == 0.5
    for voter in ("c", "d"):
        tr.add_vote(tr.make_vote(proposal(voter, conf=1.0, t=T.CONSENSUS), props["a"].id, 4))
    st = tr.score(roles)
    assert st.score == 1.0 and tr.converged(st)


def test_weights_and_confidence_shape_the_score():
    tr = ConsensusTracker({"a": 3.0}, threshold=0.75)
    pa, pb = proposal("a", conf=1.0), proposal("b", conf=1.0)
    tr.observe(pa)
    tr.observe(pb)
    st = tr.score(["a", "b"])
    assert st.score == pytest.approx(0.75) and st.leader.message is pa
    # An unsure dissenter counts less than a sure one.
    tr2 = ConsensusTracker()
    tr2.observe(proposal("a", conf=0.9))
    tr2.observe(proposal("b", conf=0.3))
    assert tr2.score(["a", "b"]).score == pytest.approx(0.75)


def test_tie_is_not_convergence():
    tr = ConsensusTracker(threshold=0.5)
    tr.observe(proposal("a"))
    tr.observe(proposal("b"))
    st = tr.score(["a", "b"])
    assert st.score == 0.5 and st.tied and not tr.converged(st)
    with pytest.raises(LogoMeshError, match="threshold"):
        ConsensusTracker(threshold=0)


async def test_early_stop_when_converged(make_backend):
    # Everyone votes for the first candidate from round 2 on: round-robin stops there.
    s = MultiModelSession(protocol="round-robin", store=False,
                          limits=ResourceLimits(max_rounds=6))
    for i, role in enumerate(["a", "b", "c"]):
        await s.add_model(role, make_backend(f"m{i}", vote_index=0, confidence=0.9))
    r = await s.execute_collaborative_prompt("go")
    assert r.converged and r.stopped_reason == "converged"
    assert r.rounds_run == 2 and r.consensus_score >= 0.75
    assert r.arbitration is None


async def test_split_vote_triggers_arbitration_and_is_recorded(make_backend):
    calls = []

    async def arbiter(state, reason):
        calls.append((reason, [c.message.short_id for c in state.candidates]))
        return ArbitrationDecision(choice_id=state.candidates[-1].message.id,
                                   decided_by="human", policy="test", reason="I pick")

    s = MultiModelSession(store=False, arbitration=arbiter, role_weights={"a": 2.0})
    # Each role votes for a different candidate: no consensus after four rounds.
    for i, role in enumerate(["a", "b", "c"]):
        await s.add_model(role, make_backend(f"x{i}", vote_index=i, confidence=0.8))
    r = await s.execute_collaborative_prompt("go")
    assert len(calls) == 1 and "no consensus after 4 rounds" in calls[0][0]
    assert not r.converged and r.stopped_reason == "arbitrated"
    chosen = r.arbitration.choice_id
    assert r.final_message_id == chosen
    note = r.messages[-1]
    assert note.from_role == "human" and note.references_to == [chosen]
    assert "Arbitration" in note.content
    kinds = [e.kind for e in s.events]
    assert "arbitration" in kinds and kinds[-1] == "session_finished"


async def test_tie_triggers_arbitration_with_headless_policies(make_backend):
    for policy in ("first", "highest-score"):
        s = MultiModelSession(store=False, arbitration=policy,
                              limits=ResourceLimits(max_rounds=1))
        await s.add_model("a", make_backend("x", confidence=0.6))
        await s.add_model("b", make_backend("y", confidence=0.6))
        r = await s.execute_collaborative_prompt("go")
        assert r.arbitration is not None and r.arbitration.policy == policy
        assert "tie between" in r.arbitration.reason
        assert r.final_answer


async def test_ask_policy_reads_the_terminal_choice():
    tr = ConsensusTracker()
    a, b = proposal("a"), proposal("b")
    tr.observe(a)
    tr.observe(b)
    out = []
    answers = iter(["7", "2"])
    decide = ask_policy(input_fn=lambda prompt: next(answers), print_fn=out.append)
    d = await decide(tr.score(["a", "b"]), "tie")
    assert d.choice_id == b.id and d.decided_by == "human"
    assert any("not one of" in line for line in out)
    with pytest.raises(LogoMeshError, match="unknown arbitration policy"):
        arbitration_policy("coin")


def test_a_lone_confident_backer_is_not_agreement():
    tr = ConsensusTracker(threshold=0.75)
    tr.observe(proposal("a", conf=0.95))
    tr.observe(proposal("b", conf=0.05))
    st = tr.score(["a", "b"])
    assert st.score > 0.9 and not tr.converged(st, electorate=2)
    # A single voter deciding alone is fine.
    assert tr.converged(tr.score(["a"]), electorate=1)
