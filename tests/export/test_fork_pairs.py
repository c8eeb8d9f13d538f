"""DPO pairs that evidence separates: a repair that passed against a candidate that failed in
one session, and two branches' code at the same position after their fork point."""

import json

import pytest

from logomesh_tui.cli.main import main
from logomesh_tui.conversation.messages import LLMMessage, MessageType
from logomesh_tui.sessions import events as ev
from logomesh_tui.sessions.lineage import fork_session
from logomesh_tui.sessions.records import Artifact
from logomesh_tui.sessions.store import SessionStore

TASK = "Refactor Dashboard.tsx.\n\nFILE Dashboard.tsx:\n```\nexport const D = (x: any) => x;\n```"
FAILS = "export const D = (x: any) => x;\n"
PASSES = "export const D = (x: number): number => x;\n"
PROMPT = [{"role": "system", "content": "You write TypeScript."},
          {"role": "user", "content": "Rewrite Dashboard.tsx without any."}]
ROLES = {"primary-analyzer": "qwen2.5-coder-1.5b", "architecture-critic": "gemma-3-270m"}


class Writer:
    def __init__(self, recorder):
        self.recorder = recorder

    def post(self, role, mtype, content, *, model="", refs=(), artifact=None, evidence=None,
             prompt=None, short=""):
        msg = LLMMessage(from_role=role, message_type=mtype, content=content, confidence=0.5,
                         references_to=list(refs), round=1, model_id=model, short_id=short,
                         conversation_id="c1", prompt_messages=prompt, evidence=evidence,
                         artifact=None if artifact is None else Artifact(
                             kind="file", path="Dashboard.tsx", text=artifact))
        self.recorder.append(ev.MessagePosted(message=msg))
        return msg

    def candidate(self, role, model, text, passed, *, short, repair_of=None):
        cand = self.post(role, MessageType.PROPOSAL, f"Candidate {short}", model=model,
                         refs=[repair_of.id] if repair_of else [], artifact=text,
                         prompt=None if repair_of else PROMPT, short=short)
        self.post("verifier", MessageType.EVIDENCE, f"{short} {'passes' if passed else 'fails'}",
                  refs=[cand.id], evidence={"passed": passed, "failed_checks":
                                            [] if passed else ["tsc"]}, short=short + "e")
        return cand


@pytest.fixture()
def root(tmp_path):
    """An evidence session: a candidate fails tsc, its repair passes; every vote is for the
    failing one (votes must not matter)."""
    store = SessionStore(tmp_path / "sessions")
    rec = store.recorder("20261201-100000-aaaaaa")
    rec.append(ev.SessionStarted(participants=dict(ROLES), protocol="evidence", prompt=TASK,
                                 task=TASK, conversation_id="c1"))
    w = Writer(rec)
    w.post("architecture-critic", MessageType.ANALYSIS, "The prop is typed any.",
           model=ROLES["architecture-critic"], short="m1")
    bad = w.candidate("primary-analyzer", ROLES["primary-analyzer"], FAILS, False, short="m2")
    w.candidate("primary-analyzer", ROLES["primary-analyzer"], PASSES, True, short="m4",
                repair_of=bad)
    for voter in ROLES:
        rec.append(ev.VoteCast(vote=ev.Vote(voter=voter, target_id=bad.id, round=1)))
    rec.append(ev.SessionFinished(consensus_score=1.0, converged=True, rounds_run=1))
    return store, rec.session_id


def test_a_repair_that_passed_pairs_with_the_candidate_that_failed(root, tmp_path, capsys):
    store, sid = root
    out = tmp_path / "dpo"
    assert main(["--sessions-dir", str(store.dir), "export", sid, "-f", "dpo",
                 "-o", str(out)]) == 0
    records = [json.loads(x) for x in (out / "train.jsonl").read_text().splitlines()]
    assert len(records) == 1
    assert records[0]["prompt"] == PROMPT
    assert "x: number" in records[0]["chosen"][0]["content"]
    assert "x: any" in records[0]["rejected"][0]["content"]


def test_two_branches_pair_at_the_same_position_where_evidence_separates_them(root, tmp_path,
                                                                              capsys):
    store, sid = root
    first = store.read(sid).events
    m1 = next(e.message for e in first if isinstance(e, ev.MessagePosted))
    fork = fork_session(store, sid, "m1",
                        assignment={"primary-analyzer": "qwen2.5-coder-0.5b"})
    w = Writer(store.recorder(fork.id, resume=True))
    w.candidate("primary-analyzer", "qwen2.5-coder-0.5b", PASSES, True, short="m2")
    w.recorder.append(ev.SessionFinished(consensus_score=1.0, converged=True, rounds_run=1))

    out = tmp_path / "pairs"
    assert main(["--sessions-dir", str(store.dir), "export", sid, "-f", "dpo", "--pair",
                 fork.id, "-o", str(out)]) == 0
    records = [json.loads(x) for x in (out / "train.jsonl").read_text().splitlines()]
    assert len(records) == 1
    rec = records[0]
    # The prompt is the shared prefix: the task and m1, nothing after the fork.
    assert rec["prompt"][0]["content"].startswith(TASK)
    assert "The prop is typed any." in rec["prompt"][0]["content"]
    assert "Candidate" not in rec["prompt"][0]["content"]
    assert "x: number" in rec["chosen"][0]["content"] and "x: any" in rec["rejected"][0]["content"]
    meta = rec["metadata"]
    assert meta["chosen_session"] == fork.id and meta["chosen_model"] == "qwen2.5-coder-0.5b"
    assert meta["rejected_session"] == sid and meta["rejected_model"] == "qwen2.5-coder-1.5b"
    assert meta["fork_at"] == m1.id

    assert main(["--sessions-dir", str(store.dir), "export", sid, "-f", "sharegpt",
                 "--pair", fork.id, "-o", str(tmp_path / "x")]) == 2
    assert "use --format dpo" in capsys.readouterr().err
