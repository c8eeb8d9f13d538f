"""Grid runs (`run SCENARIO --grid ROLE=M1,M2 ...`), forks at the start, comparing from the
start and preference pairs of a start fork, through the real CLI entry point with fake models."""

import io
import json
import xml.etree.ElementTree as ET
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest

from logomesh_tui.cli.grid import GridRun
from logomesh_tui.cli.main import main
from logomesh_tui.conversation.messages import LLMMessage, MessageType
from logomesh_tui.sessions import events as ev
from logomesh_tui.sessions.lineage import START, fork_session
from logomesh_tui.sessions.records import Artifact
from logomesh_tui.sessions.store import SessionStore

SEED = str(Path(__file__).resolve().parents[2] / "examples" / "seed-scenario.toml")
GRID = ["--grid", "primary-analyzer=smollm2-135m,gemma-3-270m",
        "--grid", "architecture-critic=smollm2-135m,qwen2.5-coder-0.5b"]
LABELS = [f"primary-analyzer={pa}, architecture-critic={ac}"
          for pa in ("smollm2-135m", "gemma-3-270m")
          for ac in ("smollm2-135m", "qwen2.5-coder-0.5b")]

SCENARIO = """
prompt = "Review it."
input_files = ["c.tsx"]
protocol = "four-round"
[roles]
primary-analyzer = "smollm2-135m"
architecture-critic = "gemma-3-270m"
[limits]
max_rounds = 1
max_tokens = 48
n_ctx = 1024
"""


def cli(sessions: Path, *argv: str) -> int:
    return main(["--sessions-dir", str(sessions), *argv])


def svg_text(path: Path) -> str:
    """Every text of the SVG, parsed as XML, one line each."""
    return "\n".join("".join(t.itertext()) for t in ET.parse(path).getroot().iter()
                     if t.tag.endswith("text"))


@pytest.fixture(scope="module")
def seed_grid(tmp_path_factory):
    """A headless 2x2 grid of the example scenario on fake models; (folder, its JSON)."""
    sessions = tmp_path_factory.mktemp("grid") / "sessions"
    out, err = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as mp, redirect_stdout(out), redirect_stderr(err):
        mp.setenv("LOGOMESH_CONFIG", str(sessions.parent / "none.toml"))
        code = cli(sessions, "run", SEED, "--fake", *GRID, "--arbitration", "first", "--json")
    assert code == 0, err.getvalue()[-2000:]
    return sessions, json.loads(out.getvalue())


@pytest.fixture()
def small(tmp_path):
    (tmp_path / "c.tsx").write_text("export const C = () => <div/>;\n")
    path = tmp_path / "s.toml"
    path.write_text(SCENARIO)
    return tmp_path / "sessions", path


@pytest.mark.toolchain
def test_a_2x2_grid_records_a_root_and_three_start_branches(seed_grid, capsys):
    sessions, doc = seed_grid
    store = SessionStore(sessions)
    rows = {r.id: r for r in store.list()}
    root = doc["root"]
    assert len(rows) == 4 and [r.id for r in rows.values() if r.parent is None] == [root]
    assert all(r.finished for r in rows.values())
    assert cli(sessions, "sessions", "list", "--json") == 0
    listed = {r["id"]: r for r in json.loads(capsys.readouterr().out)}
    assert listed[root]["parent"] is None and listed[root]["fork_at"] is None
    assert sorted((r["parent"], r["fork_at"]) for r in listed.values() if r["id"] != root) \
        == [(root, "start")] * 3
    # Every branch ran its own first turn: no message is shared with the root.
    root_ids = {e.message.id for e in store.read(root).events if isinstance(e, ev.MessagePosted)}
    for sid in rows.keys() - {root}:
        events = store.read(sid).events
        own = [e.message for e in events if isinstance(e, ev.MessagePosted)]
        assert own and root_ids.isdisjoint(m.id for m in own)
        # The evidence round ran on the input file in the branch as in the root.
        assert not any(isinstance(e, ev.EvidenceRecorded) and e.event == "skipped"
                       for e in events)


def test_the_grid_has_a_row_per_assignment_and_the_chart_names_them(seed_grid):
    sessions, doc = seed_grid
    assert doc["fork_at"] == "start"
    branches = doc["branches"]
    assert [b["name"] for b in branches] == ["A", "B", "C", "D"]
    assert branches[0]["id"] == doc["root"] and branches[0]["parent"] is None
    assert all(b["parent"] == doc["root"] for b in branches[1:])
    for b, label in zip(branches, LABELS, strict=True):
        got = {r: b["assignment"][r] for r in ("primary-analyzer", "architecture-critic")}
        assert ", ".join(f"{r}={m}" for r, m in got.items()) == label
        assert b["grid"] == got and b["finished"] and b["tokens"] > 0 and b["wall_s"] > 0
        # The roles the grid does not vary keep the scenario's models.
        assert b["assignment"]["optimization-specialist"] == "gemma-3-270m"
    chart = Path(doc["chart"])
    assert chart == sessions / f"grid-{doc['root']}.svg"
    texts = svg_text(chart)
    for label in LABELS:
        assert label in texts
    assert "consensus score" in texts and "wall time" in texts
    assert all(b["id"] in texts for b in branches)


def test_grid_json_is_one_document(small, capsys, tmp_path):
    sessions, scenario = small
    chart = tmp_path / "out" / "chart.svg"
    assert cli(sessions, "run", str(scenario), "--fake", "--json", "--chart", str(chart),
               "--grid", "primary-analyzer=smollm2-135m,gemma-3-270m") == 0
    out = capsys.readouterr().out
    doc = json.loads(out)
    assert doc["fork_at"] == "start" and doc["chart"] == str(chart) and chart.exists()
    assert [b["name"] for b in doc["branches"]] == ["A", "B"]
    assert doc["branches"][0]["id"] == doc["root"]
    assert doc["branches"][1]["parent"] == doc["root"]
    assert [b["assignment"]["primary-analyzer"] for b in doc["branches"]] \
        == ["smollm2-135m", "gemma-3-270m"]
    assert [b["grid"] for b in doc["branches"]] == [{"primary-analyzer": "smollm2-135m"},
                                                   {"primary-analyzer": "gemma-3-270m"}]
    for b in doc["branches"]:
        assert b["finished"] and b["tokens"] > 0 and set(b["consensus"]) == {
            "reached", "round", "score"}


def test_grid_prints_the_table_and_the_chart(small, capsys):
    sessions, scenario = small
    assert cli(sessions, "run", str(scenario), "--fake",
               "--grid", "architecture-critic=gemma-3-270m,qwen2.5-coder-0.5b") == 0
    out = capsys.readouterr().out
    ids = [r.id for r in SessionStore(sessions).list()]
    assert len(ids) == 2
    assert "from the start" in out and "consensus and passing artifacts" in out
    assert all(sid in out for sid in ids)
    assert "qwen2.5-coder-0.5b" in out and "chart saved:" in out
    root = next(r.id for r in SessionStore(sessions).list() if r.parent is None)
    assert (sessions / f"grid-{root}.svg").exists()


def test_ctrl_c_between_branches_keeps_the_finished_and_says_how_to_resume(small, capsys,
                                                                          monkeypatch):
    sessions, scenario = small
    real = GridRun.run_branch
    calls = []

    async def stop_at_second(self, engine, runner, line, sid):
        calls.append(sid)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return await real(self, engine, runner, line, sid)

    monkeypatch.setattr(GridRun, "run_branch", stop_at_second)
    assert cli(sessions, "run", str(scenario), "--fake", *GRID) == 130
    out = capsys.readouterr().out
    store = SessionStore(sessions)
    rows = {r.id: r for r in store.list()}
    assert len(rows) == 4 and sum(r.finished for r in rows.values()) == 2
    left = [sid for sid, r in rows.items() if not r.finished]
    for sid in left:
        assert f"logomesh-tui resume {sid}" in out
    assert "2 of 4 assignments finished" in out and "logomesh-tui compare" in out
    monkeypatch.undo()
    for sid in left:
        assert cli(sessions, "resume", sid, "--fake") == 0
    capsys.readouterr()
    assert cli(sessions, "compare", *rows, "--json") == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["fork_at"] == "start" and all(b["finished"] for b in doc["branches"])


def test_fork_at_the_start_resumes_from_the_first_turn(small, capsys):
    sessions, scenario = small
    assert cli(sessions, "run", str(scenario), "--fake", "--arbitration", "first") == 0
    capsys.readouterr()
    root = SessionStore(sessions).list()[0].id
    assert cli(sessions, "fork", root, "--at", "start", "--role",
               "primary-analyzer=qwen2.5-coder-0.5b", "--json") == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["parent"] == root and doc["fork_at"] == "start" and doc["fork_short_id"] == "start"
    store = SessionStore(sessions)
    read = store.read(doc["id"])
    assert [e.kind for e in read.events] == ["session_started", "fork"]
    assert read.prefix_events == 1
    assert cli(sessions, "resume", doc["id"], "--fake") == 0
    capsys.readouterr()
    msgs = [e.message for e in store.read(doc["id"]).events if isinstance(e, ev.MessagePosted)]
    root_msgs = [e.message for e in store.read(root).events if isinstance(e, ev.MessagePosted)]
    assert len(msgs) == len(root_msgs)
    assert {m.id for m in msgs}.isdisjoint(m.id for m in root_msgs)
    assert msgs[0].short_id == "m1" and msgs[0].model_id == "qwen2.5-coder-0.5b"
    assert {m.model_id for m in msgs if m.from_role == "architecture-critic"} == {"gemma-3-270m"}

    assert cli(sessions, "compare", root, doc["id"], "--json") == 0
    cmp = json.loads(capsys.readouterr().out)
    assert cmp["fork_at"] == "start" and cmp["shared_messages"] == 0
    counts = {b["id"]: b["messages"] for b in cmp["branches"]}
    assert counts == {root: len(root_msgs), doc["id"]: len(msgs)}
    assert cli(sessions, "compare", root, doc["id"]) == 0
    assert "from the start" in capsys.readouterr().out


TASK = "Refactor D.tsx.\n\nFILE D.tsx:\n```\nexport const D = (x: any) => x;\n```"


def post_candidate(recorder, model, text, passed):
    msg = LLMMessage(from_role="primary-analyzer", message_type=MessageType.PROPOSAL,
                     content="A candidate", confidence=0.5, round=1, model_id=model,
                     short_id="m1", conversation_id="c1",
                     artifact=Artifact(kind="file", path="D.tsx", text=text))
    recorder.append(ev.MessagePosted(message=msg))
    recorder.append(ev.MessagePosted(message=LLMMessage(
        from_role="verifier", message_type=MessageType.EVIDENCE, content="checked",
        confidence=1.0, round=1, references_to=[msg.id], short_id="m2", conversation_id="c1",
        evidence={"passed": passed, "failed_checks": [] if passed else ["tsc"]})))
    recorder.append(ev.SessionFinished(consensus_score=1.0, converged=True, rounds_run=1))


def test_dpo_pairs_of_a_start_fork_have_the_task_as_prompt_and_both_models(tmp_path):
    store = SessionStore(tmp_path / "sessions")
    rec = store.recorder("20261201-100000-aaaaaa")
    rec.append(ev.SessionStarted(participants={"primary-analyzer": "qwen2.5-coder-1.5b"},
                                 protocol="evidence", prompt=TASK, task=TASK,
                                 conversation_id="c1"))
    post_candidate(rec, "qwen2.5-coder-1.5b", "export const D = (x: any) => x;\n", False)
    fork = fork_session(store, rec.session_id, START,
                        assignment={"primary-analyzer": "qwen2.5-coder-0.5b"})
    post_candidate(store.recorder(fork.id, resume=True), "qwen2.5-coder-0.5b",
                   "export const D = (x: number): number => x;\n", True)
    out = tmp_path / "pairs"
    assert main(["--sessions-dir", str(store.dir), "export", rec.session_id, "-f", "dpo",
                 "--pair", fork.id, "-o", str(out)]) == 0
    records = [json.loads(x) for x in (out / "train.jsonl").read_text().splitlines()]
    assert len(records) == 1
    pair = records[0]
    assert pair["prompt"] == [{"role": "user", "content": TASK}]
    assert "x: number" in pair["chosen"][0]["content"]
    assert "x: any" in pair["rejected"][0]["content"]
    meta = pair["metadata"]
    assert meta["fork_at"] == "start" and meta["fork_short_id"] == "start"
    assert (meta["chosen_model"], meta["rejected_model"]) == ("qwen2.5-coder-0.5b",
                                                              "qwen2.5-coder-1.5b")
    assert (meta["chosen_session"], meta["rejected_session"]) == (fork.id, rec.session_id)


@pytest.mark.parametrize("grid, says", [
    (["--grid", "primary-analyzer"], "write ROLE=MODEL1,MODEL2"),
    (["--grid", "=smollm2-135m,gemma-3-270m"], "write ROLE=MODEL1,MODEL2"),
    (["--grid", "primary-analyzer="], "name one or more models"),
    (["--grid", "primary-analyzer=smollm2-135m,"], "name one or more models"),
    (["--grid", "critic=smollm2-135m,gemma-3-270m"], "no role 'critic'"),
    (["--grid", "primary-analyzer=smollm2-135m"], "two or more assignments"),
    (["--grid", "primary-analyzer=smollm2-135m,smollm2-135m"], "names a model twice"),
    (["--grid", "primary-analyzer=smollm2-135m,nope"], "unknown model 'nope'"),
    (["--grid", "primary-analyzer=smollm2-135m,gemma-3-270m",
      "--grid", "primary-analyzer=gemma-3-270m"], "names 'primary-analyzer' twice"),
    (["--chart", "x.svg"], "--chart goes with --grid"),
])
def test_bad_grid_input_is_one_line_and_exit_2(small, capsys, grid, says):
    sessions, scenario = small
    assert cli(sessions, "run", str(scenario), "--fake", *grid) == 2
    err = capsys.readouterr().err.strip()
    assert says in err and "\n" not in err
    assert not sessions.exists() or not list(sessions.glob("*.jsonl"))


def test_a_fork_at_the_start_of_a_session_without_a_start_is_refused(tmp_path):
    store = SessionStore(tmp_path / "sessions")
    rec = store.recorder("20261201-100000-bbbbbb")
    rec.append(ev.Note(event="round_started", round=1))
    assert main(["--sessions-dir", str(store.dir), "fork", rec.session_id, "--at", "start",
                 "--role", "primary-analyzer=smollm2-135m"]) == 2
