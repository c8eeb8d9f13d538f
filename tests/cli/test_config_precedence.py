"""Configuration order: command line > LOGOMESH_* environment > config file > defaults, each
pair checked, through the real entry point where the command line is involved."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from logomesh_tui.cli.main import main
from logomesh_tui.config import EngineConfig, set_command_line
from logomesh_tui.errors import ConfigError

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "Dashboard.tsx"

SCENARIO = f"""
prompt = "Review it."
input_files = ["{EXAMPLE}"]
protocol = "round-robin"
[roles]
primary-analyzer = "smollm2-135m"
[limits]
max_rounds = 1
max_tokens = 64
n_ctx = 1024
"""


@pytest.fixture(autouse=True)
def _no_command_line():
    set_command_line({})
    yield
    set_command_line({})


def write_config(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "config.toml"  # the file LOGOMESH_CONFIG names (tests/conftest.py)
    path.write_text(body)
    return path


def test_file_beats_default(tmp_path):
    write_config(tmp_path, "n_ctx = 2048\n")
    config, origins = EngineConfig.load_with_origins()
    assert config.n_ctx == 2048 and origins["n_ctx"].startswith("config file")
    assert origins["turn_timeout_s"] == "default" and config.turn_timeout_s == 300.0


def test_environment_beats_default(monkeypatch):
    monkeypatch.setenv("LOGOMESH_TURN_TIMEOUT_S", "42")
    config, origins = EngineConfig.load_with_origins()
    assert config.turn_timeout_s == 42.0
    assert origins["turn_timeout_s"] == "environment (LOGOMESH_TURN_TIMEOUT_S)"


def test_environment_beats_file(tmp_path, monkeypatch):
    write_config(tmp_path, "n_ctx = 2048\nworker_nice = 7\n")
    monkeypatch.setenv("LOGOMESH_N_CTX", "1024")
    config, origins = EngineConfig.load_with_origins()
    assert config.n_ctx == 1024 and origins["n_ctx"].startswith("environment")
    assert config.worker_nice == 7 and origins["worker_nice"].startswith("config file")


def test_command_line_beats_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("LOGOMESH_SESSIONS_DIR", str(tmp_path / "from-env"))
    set_command_line({"sessions_dir": str(tmp_path / "from-cli")})
    config, origins = EngineConfig.load_with_origins()
    assert config.sessions_dir == tmp_path / "from-cli" and origins["sessions_dir"] == "command line"
    # a subcommand's own option (load's overrides) is the command line too
    config, origins = EngineConfig.load_with_origins(n_ctx=512)
    assert config.n_ctx == 512 and origins["n_ctx"] == "command line"


def test_command_line_beats_file_in_a_real_run(tmp_path, capsys, monkeypatch):
    """sessions_dir in config.toml must not hide --sessions-dir."""
    monkeypatch.delenv("LOGOMESH_SESSIONS_DIR")
    in_file, on_cli = tmp_path / "file-sessions", tmp_path / "cli-sessions"
    cfg = tmp_path / "other-config.toml"
    cfg.write_text(f'sessions_dir = "{in_file}"\n')
    scenario = tmp_path / "s.toml"
    scenario.write_text(SCENARIO)
    rc = main(["--config", str(cfg), "--sessions-dir", str(on_cli), "run", str(scenario),
               "--fake", "--json"])
    out = capsys.readouterr().out
    assert rc == 0
    doc = json.loads(out)
    assert list(on_cli.glob("*.jsonl")) == [on_cli / f"{doc['session_id']}.jsonl"]
    assert not in_file.exists()
    # and without --sessions-dir the file's folder is used
    assert main(["--config", str(cfg), "run", str(scenario), "--fake", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert (in_file / f"{doc['session_id']}.jsonl").is_file()


def test_config_show_json_names_every_source(tmp_path, monkeypatch, capsys):
    cfg = write_config(tmp_path, 'n_ctx = 2048\nworker_nice = 9\n[roles]\nprimary-analyzer = "smollm2-135m"\n')
    monkeypatch.setenv("LOGOMESH_WORKER_NICE", "3")
    assert main(["--sessions-dir", str(tmp_path / "s"), "config", "show", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["config_file"] == {"path": str(cfg), "exists": True,
                                  "source": "environment (LOGOMESH_CONFIG)"}
    s = doc["settings"]
    assert s["n_ctx"] == {"value": 2048, "source": f"config file ({cfg})"}
    assert s["worker_nice"] == {"value": 3, "source": "environment (LOGOMESH_WORKER_NICE)"}
    assert s["sessions_dir"] == {"value": str(tmp_path / "s"), "source": "command line"}
    assert s["roles"]["value"] == {"primary-analyzer": "smollm2-135m"}
    assert s["auto_restart_failed"] == {"value": False, "source": "default"}


def test_config_show_table_and_config_path_from_command_line(tmp_path, capsys):
    cfg = tmp_path / "elsewhere.toml"
    cfg.write_text("n_threads = 1\n")
    assert main(["--config", str(cfg), "config", "show"]) == 0
    out = capsys.readouterr().out
    assert "elsewhere.toml" in out and "command line" in out and "n_threads" in out


@pytest.mark.parametrize("body, what", [
    ("n_ctx = 'many'\n", "n_ctx"),
    ("colour = 1\n", "colour: unknown field"),
    ("n_ctx = \n", "not valid TOML"),
])
def test_bad_config_is_one_line_and_exit_2(tmp_path, capsys, body, what):
    write_config(tmp_path, body)
    with pytest.raises(ConfigError) as exc:
        EngineConfig.load()
    assert what in str(exc.value) and "\n" not in str(exc.value)
    assert main(["config", "show"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1


def test_bare_engine_config_reads_no_file(tmp_path):
    write_config(tmp_path, "n_ctx = 2048\n")
    assert EngineConfig().n_ctx == 4096
