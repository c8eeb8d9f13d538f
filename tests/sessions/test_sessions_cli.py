"""`run`, `sessions list/show`, `resume` through the real CLI entry point (fake models)."""

import json
import shutil
from pathlib import Path

import pytest

from logomesh_tui.cli.main import main
from logomesh_tui.scenario import Scenario, ScenarioError

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def write_scenario(folder: Path, body: str) -> Path:
    path = folder / "s.toml"
    path.write_text(body)
    return path


MINIMAL = """
prompt = "Review it."
input_files = ["c.tsx"]
protocol = "round-robin"
[roles]
primary-analyzer = "smollm2-135m"
[roles.architecture-critic]
model = "gemma-3-270m"
weight = 2
[limits]
max_rounds = 2
max_tokens = 64
n_ctx = 1024
"""


def test_seed_scenario_is_valid_and_its_input_exists():
    sc = Scenario.load(EXAMPLES / "seed-scenario.toml")
    assert list(sc.roles) == ["primary-analyzer", "architecture-critic",
                              "optimization-specialist", "documentation-writer"]
    assert {r.model for r in sc.roles.values()} == {
        "smollm2-135m", "gemma-3-270m", "qwen2.5-coder-0.5b", "qwen2.5-coder-1.5b"}
    assert sc.protocol == "evidence"
    inputs = sc.read_inputs()
    assert "useEffect" in inputs["Dashboard.tsx"]


@pytest.mark.parametrize("body, field", [
    ('[roles]\na = "x"\n', "prompt: Field required"),
    ('prompt = "p"\n[roles.a]\nweight = 1\n', "roles.a.model: Field required"),
    ('prompt = "p"\nprotocol = "chaos"\n[roles]\na = "x"\n', "protocol: unknown protocol"),
    ('prompt = "p"\n[roles]\na = "x"\n[limits]\nmax_tokens = 1\n', "limits.max_tokens"),
    ('prompt = "p"\nroles = {}\n', "roles: "),
    ('prompt = "p"\ncolour = 1\n[roles]\na = "x"\n', "colour: unknown field"),
    ('prompt = "p\n', "not valid TOML"),
])
def test_scenario_errors_name_the_field(tmp_path, body, field):
    with pytest.raises(ScenarioError) as exc:
        Scenario.load(write_scenario(tmp_path, body))
    assert field in str(exc.value) and "\n" not in str(exc.value)


def test_missing_input_file_is_reported_at_run_time(tmp_path, capsys):
    path = write_scenario(tmp_path, MINIMAL)
    assert main(["run", str(path), "--fake"]) == 1
    err = capsys.readouterr().err
    assert "input_files[0]" in err and "c.tsx" in err


def test_run_list_show_and_resume_refusal(tmp_path, capsys):
    (tmp_path / "c.tsx").write_text("export const C = () => <div/>;\n")
    path = write_scenario(tmp_path, MINIMAL)
    sessions = tmp_path / "sessions"
    assert main(["--sessions-dir", str(sessions), "run", str(path), "--fake",
                 "--arbitration", "first"]) == 0
    out = capsys.readouterr().out
    assert "Round 1" in out and "primary-analyzer" in out and "final answer" in out
    files = list(sessions.glob("*.jsonl"))
    assert len(files) == 1
    sid = files[0].stem

    assert main(["--sessions-dir", str(sessions), "sessions", "list", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows[0]["id"] == sid and rows[0]["finished"] and rows[0]["message_count"] >= 4

    assert main(["--sessions-dir", str(sessions), "sessions", "show", sid[:15]]) == 0
    shown = capsys.readouterr().out
    assert "m1" in shown and "architecture-critic" in shown and "consensus round" in shown

    assert main(["--sessions-dir", str(sessions), "resume", sid, "--fake"]) == 1
    assert "already finished" in capsys.readouterr().err
    assert main(["--sessions-dir", str(sessions), "sessions", "show", "../x"]) == 1


def test_resume_cli_finishes_an_interrupted_session(tmp_path, capsys):
    (tmp_path / "c.tsx").write_text("export const C = () => <div/>;\n")
    path = write_scenario(tmp_path, MINIMAL)
    sessions = tmp_path / "sessions"
    assert main(["--sessions-dir", str(sessions), "run", str(path), "--fake"]) == 0
    capsys.readouterr()
    full = next(sessions.glob("*.jsonl"))
    lines = full.read_text().splitlines(keepends=True)
    # Keep everything up to the end of round 1, then a torn half line: a crash.
    cut = next(i for i, line in enumerate(lines) if '"kind":"consensus"' in line)
    crashed = sessions / "20260101-000000-abcdef.jsonl"
    crashed.write_text("".join(lines[:cut + 1]) + lines[cut + 1][:20])
    shutil.move(full, tmp_path / "done.jsonl")
    assert main(["--sessions-dir", str(sessions), "resume", "20260101", "--fake"]) == 0
    out = capsys.readouterr().out
    assert "resumed at round 2" in out and "finished" in out
    events = [json.loads(x) for x in crashed.read_text().splitlines()]
    assert events[-1]["kind"] == "session_finished"
    assert [e["seq"] for e in events] == list(range(len(events)))
