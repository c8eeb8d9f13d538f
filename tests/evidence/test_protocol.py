"""The `evidence` conversation protocol with scripted models and the real verifier.

Candidates travel as artifacts, the verifier posts evidence messages that reference them, votes
for code that failed count for nothing, and hollow messages cannot lead.
"""

from __future__ import annotations

import json
import shutil

import pytest

from logomesh_tui.conversation.consensus import ConsensusTracker, hollow_reason
from logomesh_tui.conversation.messages import Artifact, LLMMessage, MessageType
from logomesh_tui.conversation.session import MultiModelSession
from logomesh_tui.evidence.program import register_evidence_program
from logomesh_tui.export.formats import dpo_records
from logomesh_tui.export.view import SessionView
from logomesh_tui.pool.fake import FakeBackend

pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")

STARTER = ("export function clamp(x: number, lo: number, hi: number): number {\n"
           "  return x;\n}\n")
RIGHT = ("export function clamp(x: number, lo: number, hi: number): number {\n"
         "  return Math.min(hi, Math.max(lo, x));\n}\n")
HALF = ("export function clamp(x: number, lo: number, hi: number): number {\n"
        "  return Math.max(lo, x);\n}\n")
PROBE = ('import { clamp } from "./input";\nconsole.log(clamp(5, 0, 3), clamp(-1, 0, 3));\n'
         'assert(clamp(5, 0, 3) === 3, "clamp(5, 0, 3) is 3");\n')
PROMPT = "Fix clamp(x, lo, hi): below lo give lo, above hi give hi. clamp(5, 0, 3) is 3."


def responder(talk: str, votes_first: bool):
    def reply(req, backend):
        if req.json_schema is not None:
            vote = req.json_schema["properties"].get("vote", {}).get("enum", [])
            data = {"message_type": "consensus", "content": talk, "references": [],
                    "confidence": 0.9}
            if vote:
                data["vote"] = vote[0] if votes_first else vote[-1]
            return json.dumps(data)
        if "careful tester" in req.messages[0]["content"]:
            return f"```ts\n{PROBE}```"
        # The coders copy a half fix when the task follows the code (the engine's first
        # framing) and get it right when asked straight (its second).
        code = HALF if "Task:" in req.messages[-1]["content"] else RIGHT
        return f"```ts\n{code}```"
    return reply


@pytest.fixture
def no_rates(tmp_path, monkeypatch):
    monkeypatch.setenv("LOGOMESH_PASS_RATES", str(tmp_path / "rates.json"))


@pytest.mark.toolchain
async def test_the_evidence_protocol_posts_artifacts_and_evidence_and_leads_with_passing_code(
        tmp_path, no_rates):
    register_evidence_program()
    session = MultiModelSession(protocol="evidence", store=False,
                                input_files={"input.ts": STARTER})
    await session.add_model("primary-analyzer", FakeBackend(
        "scripted-coder-1.5b", n_ctx=8192,
        responder=responder("The verifier shows m2 passes every probe.", True)))
    await session.add_model("architecture-critic", FakeBackend(
        "scripted-helper-0.5b", n_ctx=8192,
        responder=responder("I am a project manager, you are a UX designer.", False)))
    result = await session.execute_collaborative_prompt(PROMPT)
    msgs = result.messages
    proposals = [m for m in msgs if m.message_type == MessageType.PROPOSAL]
    evidence = [m for m in msgs if m.message_type == MessageType.EVIDENCE]
    assert proposals and all(p.artifact is not None for p in proposals)
    assert proposals[0].artifact.text == HALF  # the greedy answer, shown as it was written
    assert len(evidence) == len(proposals)
    for ev in evidence:
        assert ev.from_role == "verifier" and ev.evidence is not None
        assert ev.references_to and ev.references_to[0] in {p.id for p in proposals}
    verdicts = {ev.references_to[0]: ev.evidence["passed"] for ev in evidence}
    assert verdicts[proposals[0].id] is False
    assert any(verdicts.values())
    # The leading (final) proposal passed verification.
    assert result.final_message_id is not None and verdicts[result.final_message_id] is True
    final = next(m for m in msgs if m.id == result.final_message_id)
    assert final.artifact is not None and final.artifact.text == RIGHT
    probes = [m for m in msgs if m.artifact is not None and m.artifact.path.startswith("probe_")]
    assert probes and "clamp(5, 0, 3)" in probes[0].artifact.text
    kinds = [e.kind for e in session.events]
    assert "evidence" in kinds
    # The DPO export pairs a passing and a failing candidate written for the same prompt.
    view = SessionView.from_events(session.session_id, session.events)
    pairs = dpo_records(view)
    assert pairs
    for pair in pairs:
        assert RIGHT.strip() in pair["chosen"][0]["content"]
        assert HALF.strip() in pair["rejected"][0]["content"]
        assert "clamp" in pair["prompt"][-1]["content"]


def _proposal(role: str, text: str, artifact: bool = False) -> LLMMessage:
    return LLMMessage(from_role=role, content=text, message_type=MessageType.PROPOSAL,
                      confidence=0.9, artifact=Artifact(kind="file", path="a.ts", text=text)
                      if artifact else None)


def test_a_vote_for_a_failing_candidate_counts_nothing():
    tracker = ConsensusTracker()
    good = _proposal("a", "export const x = 1;", artifact=True)
    bad = _proposal("b", "export const x: number = 'a';", artifact=True)
    for m in (good, bad):
        tracker.observe(m)
    tracker.observe(LLMMessage(from_role="verifier", content="fails tsc",
                               message_type=MessageType.EVIDENCE, confidence=1.0,
                               references_to=[bad.id], evidence={"passed": False}))
    tracker.add_vote(tracker.make_vote(LLMMessage(from_role="c", content="b!",
                                                  message_type=MessageType.CONSENSUS,
                                                  confidence=1.0), bad.id, 2))
    state = tracker.score(["a", "b", "c"])
    assert state.leader is not None and state.leader.message.id == good.id
    assert all(c.message.id != bad.id for c in state.candidates)


def test_hollow_messages_cannot_lead():
    tracker = ConsensusTracker()
    real = _proposal("a", "Memoize the filtered list with useMemo keyed on items and query.")
    role_play = _proposal("b", "I am a project manager, you are a UX designer. Let us begin.")
    echo = _proposal("c", "Memoize the filtered list with useMemo keyed on items and query!")
    for m in (real, role_play, echo):
        tracker.observe(m)
    assert tracker.hollow[role_play.id] == "role-play"
    assert tracker.hollow[echo.id].startswith("repeats")
    for voter in ("d", "e"):
        tracker.add_vote(tracker.make_vote(LLMMessage(
            from_role=voter, content="yes", message_type=MessageType.CONSENSUS,
            confidence=1.0), role_play.id, 2))
    state = tracker.score(["a", "b", "c", "d", "e"])
    assert state.leader is not None and state.leader.message.id == real.id


def test_code_is_never_hollow_and_plain_talk_is_not_role_play():
    assert hollow_reason(_proposal("a", "I am a developer", artifact=True), []) is None
    assert hollow_reason(_proposal("a", "As the critic I suggest splitting the reducer."),
                         []) is None


@pytest.mark.toolchain
async def test_a_big_component_is_narrowed_to_a_part_with_its_findings_and_context():
    from pathlib import Path

    from logomesh_tui.evidence.engine import EvidenceEngine
    from logomesh_tui.evidence.program import code_task_for
    from logomesh_tui.evidence.rates import Plan
    from logomesh_tui.evidence.verifier import Verifier

    text = (Path(__file__).resolve().parents[2] / "examples" / "Dashboard.tsx").read_text()
    task = await code_task_for("Remove the `any` types.", {"Dashboard.tsx": text})
    assert task is not None and task.focus is not None
    assert "function FilterBar(props: any)" in task.part
    # The findings that chose the part, quoted, are in the instruction the coders get ...
    assert "no-explicit-any" in task.instruction
    assert "at: function FilterBar(props: any) {" in task.instruction
    # ... and the prompt shows the types the part names and how the file calls it.
    fake = FakeBackend("scripted-coder-1.5b", n_ctx=8192)
    eng = EvidenceEngine(executors={"c": fake}, plan=Plan(primary="c"), verifier=Verifier(task))
    prompt = eng.task_prompt(task)
    assert "export interface Filters {" in prompt
    assert "<FilterBar filters={filters}" in prompt
