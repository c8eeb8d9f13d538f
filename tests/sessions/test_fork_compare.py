"""`fork`, lineage in `sessions list`, resuming a branch, and `compare`, through the real CLI
entry point with fake models."""

import json
from pathlib import Path

import pytest

from logomesh_tui.cli.main import main
from logomesh_tui.sessions import events as ev
from logomesh_tui.sessions.store import SessionStore

SCENARIO = """
prompt = "Review it."
input_files = ["c.tsx"]
protocol = "four-round"
[roles]
primary-analyzer = "smollm2-135m"
architecture-critic = "gemma-3-270m"
[limits]
max_rounds = 2
max_tokens = 64
n_ctx = 1024
"""


@pytest.fixture()
def recorded(tmp_path, capsys):
    """A finished fake four-round session; returns (sessions folder, its id)."""
    (tmp_path / "c.tsx").write_text("export const C = () => <div/>;\n")
    path = tmp_path / "s.toml"
    path.write_text(SCENARIO)
    sessions = tmp_path / "sessions"
    assert main(["--sessions-dir", str(sessions), "run", str(path), "--fake",
                 "--arbitration", "first"]) == 0
    capsys.readouterr()
    return sessions, next(sessions.glob("*.jsonl")).stem


def cli(sessions: Path, *argv: str) -> int:
    return main(["--sessions-dir", str(sessions), *argv])


def test_fork_references_the_prefix_and_the_branch_runs_on_with_the_new_model(recorded,
                                                                              capsys):
    sessions, root = recorded
    assert cli(sessions, "fork", root, "--at", "m3", "--role",
               "architecture-critic=qwen2.5-coder-0.5b", "--json") == 0
    doc = json.loads(capsys.readouterr().out)
    store = SessionStore(sessions)
    parent_msgs = [e.message for e in store.read(root).events
                   if isinstance(e, ev.MessagePosted)]
    assert doc["parent"] == root and doc["fork_at"] == parent_msgs[2].id
    # The branch's own file holds only the fork event: the prefix is referenced.
    own = store.read_own(doc["id"]).events
    assert [e.kind for e in own] == ["fork"]
    assert not any(e.kind == "message" for e in own)

    assert cli(sessions, "resume", doc["id"], "--fake") == 0
    out = capsys.readouterr().out
    assert "resumed at round" in out and "qwen2.5-coder-0.5b" in out
    history = store.read(doc["id"])
    msgs = [e.message for e in history.events if isinstance(e, ev.MessagePosted)]
    # The shared messages keep their ids; the branch's own come after them.
    assert [m.id for m in msgs[:3]] == [m.id for m in parent_msgs[:3]]
    assert {m.id for m in msgs[3:]}.isdisjoint({m.id for m in parent_msgs})
    critic = [m.model_id for m in msgs[3:] if m.from_role == "architecture-critic"]
    assert critic and set(critic) == {"qwen2.5-coder-0.5b"}
    # The parent's file is untouched by the branch.
    assert not any(e.session_id == doc["id"] for e in store.read_own(root).events)
    seqs = [e.seq for e in history.events]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)


def test_list_shows_the_tree_and_json_carries_parent_and_fork_at(recorded, capsys):
    sessions, root = recorded
    assert cli(sessions, "fork", root, "--at", "m2", "--role",
               "primary-analyzer=gemma-3-270m") == 0
    branch = capsys.readouterr().out.strip()
    assert cli(sessions, "fork", branch, "--at", "m2", "--max-rounds", "3") == 0
    twig = capsys.readouterr().out.strip()
    assert cli(sessions, "sessions", "list", "--json") == 0
    rows = {r["id"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows[root]["parent"] is None and rows[root]["fork_at"] is None
    assert rows[branch]["parent"] == root and rows[branch]["fork_short_id"] == "m2"
    assert rows[twig]["parent"] == branch
    assert cli(sessions, "sessions", "list") == 0
    lines = capsys.readouterr().out.splitlines()
    at = {sid: next(i for i, line in enumerate(lines) if sid in line)
          for sid in (root, branch, twig)}
    assert at[root] < at[branch] < at[twig]
    assert "└ " + branch in lines[at[branch]] and "  └ " + twig in lines[at[twig]]
    # A branch of a branch reads both prefixes: m1 and m2 from the root.
    store = SessionStore(sessions)
    roots = [e.message.id for e in store.read(root).events if isinstance(e, ev.MessagePosted)]
    twigs = [e.message.id for e in store.read(twig).events if isinstance(e, ev.MessagePosted)]
    assert twigs == roots[:2]


def test_resume_continues_an_interrupted_branch(recorded, capsys):
    sessions, root = recorded
    assert cli(sessions, "fork", root, "--at", "m1", "--role",
               "architecture-critic=smollm2-135m") == 0
    branch = capsys.readouterr().out.strip()
    assert cli(sessions, "resume", branch, "--fake") == 0
    capsys.readouterr()
    path = sessions / f"{branch}.jsonl"
    lines = path.read_text().splitlines(keepends=True)
    # A crash after the first consensus: keep the branch up to it and a torn half line.
    cut = next(i for i, line in enumerate(lines) if '"kind":"consensus"' in line)
    path.write_text("".join(lines[:cut + 1]) + lines[cut + 1][:25])
    assert cli(sessions, "resume", branch, "--fake") == 0
    assert "resumed at round 2" in capsys.readouterr().out
    events = SessionStore(sessions).read(branch).events
    assert events[-1].kind == "session_finished"
    assert sum(e.kind == "fork" for e in events) == 1


@pytest.mark.parametrize("argv, says", [
    (["--at", "m99", "--role", "architecture-critic=smollm2-135m"], "no message 'm99'"),
    (["--at", "m1", "--role", "critic=smollm2-135m"], "no role 'critic'"),
    (["--at", "m1", "--role", "architecture-critic"], "write ROLE=MODEL"),
    (["--at", "m1", "--role", "architecture-critic=nope"], "unknown model 'nope'"),
    (["--at", "m1"], "a fork needs a change"),
])
def test_bad_fork_input_is_one_line_and_exit_2(recorded, capsys, argv, says):
    sessions, root = recorded
    assert cli(sessions, "fork", root, *argv) == 2
    err = capsys.readouterr().err.strip()
    assert says in err and "\n" not in err
    assert len(list(sessions.glob("*.jsonl"))) == 1


def test_compare_has_a_row_per_branch_from_the_fork_point(recorded, capsys):
    sessions, root = recorded
    assert cli(sessions, "fork", root, "--at", "m3", "--role",
               "architecture-critic=qwen2.5-coder-0.5b", "--run", "--fake") == 0
    capsys.readouterr()
    branch = next(r.id for r in SessionStore(sessions).list() if r.parent == root)
    assert cli(sessions, "compare", root, branch, "--json") == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["fork_short_id"] == "m3" and doc["shared_messages"] == 3
    rows = {b["id"]: b for b in doc["branches"]}
    assert set(rows) == {root, branch}
    assert rows[branch]["assignment"]["architecture-critic"] == "qwen2.5-coder-0.5b"
    assert rows[root]["assignment"]["architecture-critic"] == "gemma-3-270m"
    for row in rows.values():
        assert row["finished"] and row["tokens"] > 0 and row["wall_s"] >= 0
        assert set(row["consensus"]) == {"reached", "round", "score"}
        assert "architecture-critic" in row["tokens_per_s"] or row["messages"] > 0
    crit = rows[branch]["tokens_per_s"]["architecture-critic"]
    assert crit["model"] == "qwen2.5-coder-0.5b" and crit["tokens_per_s"] > 0
    assert cli(sessions, "compare", root, branch) == 0
    table = capsys.readouterr().out
    assert root in table and branch in table and "from m3" in table
    assert cli(sessions, "compare", root) == 2
