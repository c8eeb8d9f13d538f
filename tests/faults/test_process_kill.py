"""SIGKILL the headless runner (`logomesh-tui run SCENARIO.toml`, real smollm2-135m workers) in
the middle of a conversation: no worker outlives it, and `logomesh-tui resume ID` continues the
session with every completed message intact and no turn done twice."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.faults.helpers import SMOL, ensure_dead, wait_gone, worker_pids

pytestmark = pytest.mark.real

SCENARIO = f"""
prompt = "A React component filters 5,000 orders inside render on every keystroke. Propose one change."
protocol = "round-robin"
arbitration = "highest-score"
[roles]
primary-analyzer = "{SMOL}"
architecture-critic = "{SMOL}"
[limits]
max_rounds = 2
min_rounds = 2
max_tokens = 48
max_content_chars = 48
temperature = 0.0
n_ctx = 1024
"""


def events_of(path: Path) -> list[dict]:
    out = []
    for line in path.read_text().splitlines(keepends=True):
        if line.endswith("\n"):
            out.append(json.loads(line))
    return out


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "logomesh_tui", *args]


def test_sigkill_the_runner_then_resume_keeps_every_message(tmp_path, small_config, monkeypatch):
    sessions = tmp_path / "sessions"
    monkeypatch.setenv("LOGOMESH_SESSIONS_DIR", str(sessions))
    monkeypatch.setenv("LOGOMESH_N_THREADS", "1")
    # One worker per role, so the kill is seen by two worker processes (shared workers are the
    # default: both roles use smollm2).
    monkeypatch.setenv("LOGOMESH_SHARE_WORKERS", "false")
    scenario = tmp_path / "s.toml"
    scenario.write_text(SCENARIO)
    runner = subprocess.Popen(cli("run", str(scenario)), stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True)
    seen_workers: set[int] = set()
    try:
        deadline = time.monotonic() + 180
        session_file = None
        while time.monotonic() < deadline and runner.poll() is None:
            seen_workers |= worker_pids(runner.pid)
            files = list(sessions.glob("*.jsonl")) if sessions.is_dir() else []
            if files:
                session_file = files[0]
                if any(e["kind"] == "message" for e in events_of(session_file)):
                    break
            time.sleep(0.05)
        assert runner.poll() is None, f"the run ended before it could be killed: {runner.stderr.read()}"
        assert session_file is not None, "no session file appeared"
        seen_workers |= worker_pids(runner.pid)
        assert len(seen_workers) == 2, seen_workers
        runner.send_signal(signal.SIGKILL)
        runner.wait(10)
        # The workers notice their parent is gone (PR_SET_PDEATHSIG, stdin EOF) and exit.
        assert wait_gone(seen_workers, timeout=10) == set(), "workers outlived the killed runner"
    finally:
        if runner.poll() is None:
            runner.kill()
        ensure_dead(seen_workers)

    before_bytes = session_file.read_bytes()
    before = events_of(session_file)
    kinds = [e["kind"] for e in before]
    assert "session_finished" not in kinds
    done_before = [e["message"] for e in before if e["kind"] == "message"]
    assert done_before
    sid = session_file.stem

    resumed = subprocess.run(cli("resume", sid[:15]), capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert "resumed" in resumed.stdout
    after_bytes = session_file.read_bytes()
    complete = before_bytes[: before_bytes.rfind(b"\n") + 1]
    # Every complete line written before the kill is still there, byte for byte, in order.
    assert after_bytes.startswith(complete)
    after = events_of(session_file)
    assert [e["seq"] for e in after] == list(range(len(after)))
    assert all(e["v"] == 2 for e in after)  # the schema version is on every line
    assert after[-1]["kind"] == "session_finished"
    messages = [e["message"] for e in after if e["kind"] == "message"]
    assert messages[: len(done_before)] == done_before
    # Each (round, role) turn happened exactly once across the two processes: a message or a
    # recorded failure, never both, never twice.
    turns = [(e["message"]["round"], e["message"]["from"]) if e["kind"] == "message"
             else (e["round"], e["role"]) for e in after if e["kind"] in ("message", "failure")]
    turns = [t for t in turns if t[1] != "human"]
    assert sorted(turns) == sorted({(r, role) for r in (1, 2)
                                    for role in ("primary-analyzer", "architecture-critic")})
