"""The CLI from scripts: --version, one JSON document on stdout for every --json (progress on
stderr), and the documented exit codes (0 ok, 1 failed, 2 bad usage or input, 130 interrupted).
Run as a real subprocess where stdout must be checked byte for byte."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from logomesh_tui.cli.main import main
from logomesh_tui.cli.run import outcome_code

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "Dashboard.tsx"
SCENARIO = f"""
prompt = "Review it."
input_files = ["{EXAMPLE}"]
protocol = "round-robin"
[roles]
primary-analyzer = "smollm2-135m"
architecture-critic = "gemma-3-270m"
[limits]
max_rounds = 2
max_tokens = 64
n_ctx = 1024
"""


def cli(*args: str, env: dict | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    full_env = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    return subprocess.run([sys.executable, "-m", "logomesh_tui", *args], capture_output=True,
                          text=True, env=full_env, cwd=cwd, timeout=300)


def one_json(stdout: str):
    """stdout must be exactly one JSON document (json.loads refuses trailing text)."""
    return json.loads(stdout)


@pytest.mark.toolchain
def test_version():
    p = cli("--version")
    assert p.returncode == 0 and p.stdout.startswith("logomesh-tui ")
    assert p.stdout.split()[1][0].isdigit() or "not installed" in p.stdout


@pytest.mark.toolchain
def test_run_json_is_one_document_with_the_timeline_on_stderr(tmp_path):
    scenario = tmp_path / "s.toml"
    scenario.write_text(SCENARIO)
    p = cli("--sessions-dir", str(tmp_path / "sessions"), "run", str(scenario), "--fake", "--json")
    assert p.returncode == 0, p.stderr
    doc = one_json(p.stdout)
    assert doc["session_id"] and doc["final_answer"]
    assert "loaded smollm2-135m as primary-analyzer" in p.stderr and "Round 1" in p.stderr

    s = cli("--sessions-dir", str(tmp_path / "sessions"), "sessions", "list", "--json")
    assert s.returncode == 0 and [r["id"] for r in one_json(s.stdout)] == [doc["session_id"]]
    s = cli("--sessions-dir", str(tmp_path / "sessions"), "sessions", "show", doc["session_id"],
            "--json")
    shown = one_json(s.stdout)
    assert s.returncode == 0 and shown["session_id"] == doc["session_id"] and shown["finished"]
    assert any(e["kind"] == "message" for e in shown["events"])

    e = cli("--sessions-dir", str(tmp_path / "sessions"), "export", doc["session_id"],
            "--format", "openai-chat", "-o", str(tmp_path / "out"), "--json")
    exported = one_json(e.stdout)
    assert e.returncode == 0 and exported["records"] >= 1
    assert Path(exported["data_file"]).is_file()


@pytest.mark.toolchain
def test_models_list_json_is_one_document(tmp_path):
    p = cli("models", "list", "--json", env={"LOGOMESH_MODELS_DIR": str(tmp_path)})
    rows = one_json(p.stdout)
    assert p.returncode == 0 and "smollm2-135m" in {r["name"] for r in rows}


@pytest.mark.toolchain
def test_refactor_json_is_one_document(tmp_path):
    src = tmp_path / "C.tsx"
    src.write_text("export function C(): number { return 1; }\n")
    p = cli("--sessions-dir", str(tmp_path / "sessions"), "refactor", str(src), "-o",
            str(tmp_path / "out"), "--fake", "--json", "--role", "primary-analyzer=smollm2-135m")
    assert p.returncode in (0, 1), p.stderr
    report = one_json(p.stdout)
    assert isinstance(report, dict) and "loading smollm2-135m" in p.stderr


@pytest.mark.toolchain
def test_models_pull_without_a_name_is_bad_usage_on_stderr():
    p = cli("models", "pull")
    assert p.returncode == 2 and p.stdout == ""
    assert p.stderr.startswith("error: name a model to pull") and p.stderr.count("\n") == 1


@pytest.mark.parametrize("args, code, says", [
    (["run", "missing.toml", "--fake"], 2, "not found"),
    (["models", "show", "no-such-model"], 2, "unknown model"),
    (["sessions", "show", "../x"], 2, "invalid session id"),
    (["--no-such-option"], 2, "unrecognized arguments"),
    (["models", "rm", "smollm2-135m"], 2, "not on disk"),
    # Refused before any benchmark runs (the file stands in for a results folder).
    (["bench", "conversation", "--out", "missing.toml"], 2, "is a file; give a folder"),
])
def test_bad_input_exits_2_with_one_line(tmp_path, capsys, monkeypatch, args, code, says):
    monkeypatch.setenv("LOGOMESH_MODELS_DIR", str(tmp_path / "models"))
    monkeypatch.chdir(tmp_path)
    if args[0] == "bench":
        (tmp_path / "missing.toml").write_text("")
    assert main(args) == code
    err = capsys.readouterr().err
    assert says in err


class _Response:
    def __init__(self, answer: str) -> None:
        self.final_answer = answer


def test_a_run_without_an_answer_is_a_failure():
    assert outcome_code(_Response("use memo")) == 0
    assert outcome_code(_Response("")) == 1


def test_a_failing_run_exits_1(tmp_path, capsys):
    """Every turn fails (the model is a remote endpoint that does not exist): exit 1."""
    cfg = tmp_path / "config.toml"
    cfg.write_text('[[remotes]]\nname = "gone"\nbase_url = "http://127.0.0.1:9"\nmodel = "m"\n'
                   "max_retries = 0\n")
    scenario = tmp_path / "s.toml"
    scenario.write_text(SCENARIO.replace('"smollm2-135m"', '"remote:gone"')
                        .replace('architecture-critic = "gemma-3-270m"\n', ""))
    assert main(["run", str(scenario), "--json"]) == 1
    captured = capsys.readouterr()
    assert captured.out == "" and "is not answering" in captured.err


def test_interrupted_command_exits_130(monkeypatch, capsys):
    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setattr("logomesh_tui.cli.config_cmd.cmd_show", interrupted)
    assert main(["config", "show"]) == 130
    assert capsys.readouterr().err == "interrupted\n"


@pytest.mark.toolchain
def test_refactor_of_a_file_that_does_not_parse_exits_2(tmp_path):
    src = tmp_path / "Broken.tsx"
    src.write_text("export function C( { return <div>;\n")
    p = cli("--sessions-dir", str(tmp_path / "sessions"), "refactor", str(src), "-o",
            str(tmp_path / "out"), "--fake", "--json", "--role", "primary-analyzer=smollm2-135m")
    assert p.returncode == 2, p.stderr
    assert "does not parse" in p.stderr.splitlines()[-1]
    assert p.stdout == ""  # no report: nothing was tried


@pytest.mark.toolchain
def test_run_json_under_a_config_naming_another_sessions_folder(tmp_path, monkeypatch):
    """As scripts use it: the config file names one sessions folder, --sessions-dir another;
    the command line wins and stdout is the one JSON document."""
    monkeypatch.delenv("LOGOMESH_SESSIONS_DIR")  # only the file and the command line
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'sessions_dir = "{tmp_path / "from-config"}"\n')
    scenario = tmp_path / "s.toml"
    scenario.write_text(SCENARIO)
    p = cli("--config", str(cfg), "--sessions-dir", str(tmp_path / "from-cli"), "run",
            str(scenario), "--fake", "--json")
    assert p.returncode == 0, p.stderr
    sid = one_json(p.stdout)["session_id"]
    assert (tmp_path / "from-cli" / f"{sid}.jsonl").is_file()
    assert not (tmp_path / "from-config").exists()


@pytest.mark.toolchain
def test_models_show_json_as_a_script_reads_it():
    p = cli("models", "show", "qwen2.5-coder-1.5b", "--json")
    doc = one_json(p.stdout)
    assert p.returncode == 0 and doc["name"] == "qwen2.5-coder-1.5b"
    assert doc["metadata"]["arch"] == "qwen2" and doc["memory"]["total_bytes"] > doc["size_bytes"]



def test_a_reader_that_stops_early_ends_the_command_quietly(monkeypatch, capsys):
    """`logomesh-tui config show --json | head -c 1`: the closed pipe ends the command with
    141 (128 + SIGPIPE) and no traceback, as other Unix tools do."""
    with capsys.disabled():
        read_end, write_end = os.pipe()
        os.close(read_end)  # the reader has gone before the first byte is written
        out = os.fdopen(write_end, "w")
        monkeypatch.setattr(sys, "stdout", out)
        try:
            assert main(["config", "show", "--json"]) == 141
        finally:
            monkeypatch.undo()
            out.close()


@pytest.mark.toolchain
def test_a_calibration_is_written_beside_the_quality_results_not_over_them(tmp_path,
                                                                          monkeypatch, capsys):
    from logomesh_tui.cli import bench as bench_cli

    async def fake_run(part, args):
        return {"calibration": {"m": [1, 2]}, "tasks": "all"}

    monkeypatch.setattr(bench_cli, "_run_part", fake_run)
    (tmp_path / "quality.json").write_text('{"modes": {}}')
    assert main(["bench", "quality", "--calibrate-only", "--json", "--out", str(tmp_path)]) == 0
    assert json.loads((tmp_path / "calibration.json").read_text())["calibration"] == {"m": [1, 2]}
    assert json.loads((tmp_path / "quality.json").read_text()) == {"modes": {}}
    assert json.loads(capsys.readouterr().out)["tasks"] == "all"
    # Without --json the calibration prints as a table, not as a quality run's table.
    assert main(["bench", "quality", "--calibrate-only", "--out", str(tmp_path)]) == 0
    assert "calibration" in capsys.readouterr().out
