"""The sessions folder cannot be written (a path under a regular file: root ignores chmod) or
the disk fills up mid-run (os.write / os.fsync raising ENOSPC): `logomesh-tui run` finishes the
conversation in memory, tells the user once that nothing more is saved, and what was saved
before the disk filled up can still be shown and resumed. (Store-level cases are in
tests/sessions/test_sessions_store.py.)"""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path

import pytest

from logomesh_tui.cli.main import main

SCENARIO = """
prompt = "Review the component."
protocol = "round-robin"
[roles]
primary-analyzer = "smollm2-135m"
architecture-critic = "gemma-3-270m"
[limits]
max_rounds = 3
min_rounds = 3
max_tokens = 64
"""


@pytest.fixture
def scenario(tmp_path) -> Path:
    path = tmp_path / "s.toml"
    path.write_text(SCENARIO)
    return path


def warnings_in(out: str) -> list[str]:
    return [line for line in out.splitlines() if "not saving" in line]


def test_unwritable_sessions_folder_run_finishes_and_says_so(tmp_path, scenario, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    sessions = blocker / "sessions"
    assert main(["--sessions-dir", str(sessions), "run", str(scenario), "--fake"]) == 0
    out = capsys.readouterr().out
    assert "final answer" in out and "Round 3" in out
    warned = warnings_in(out)
    # Once when it happens, once more under the answer instead of "session saved: ...".
    assert len(warned) == 2 and "session saved" not in out
    assert "Errno 20" in warned[0] or "Not a directory" in warned[0]
    assert not sessions.exists()


def test_unwritable_folder_json_output_reports_it(tmp_path, scenario, capsys):
    sessions = tmp_path / "a-file"
    sessions.write_text("x")
    assert main(["--sessions-dir", str(sessions / "deeper"), "run", str(scenario), "--fake",
                 "--json"]) == 0
    out = capsys.readouterr().out
    payload = json.loads(out[out.index("{\n"):])
    assert payload["saving"] is False and payload["save_warning"].startswith("not saving:")
    assert payload["final_answer"]


@pytest.mark.parametrize("where", ["write", "fsync"])
def test_disk_full_midway_then_resume_what_was_saved(tmp_path, scenario, capsys, monkeypatch,
                                                     where):
    sessions = tmp_path / "sessions"
    real_write, real_fsync = os.write, os.fsync
    calls = {"n": 0}
    limit = 12  # events that fit before the disk is "full"

    def full_write(fd, data):
        calls["n"] += 1
        if calls["n"] > limit:
            # Half the line reaches the disk, then the device is full: a torn last line.
            real_write(fd, bytes(data)[: len(data) // 2])
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(fd, data)

    def full_fsync(fd):
        calls["n"] += 1
        if calls["n"] > limit:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_fsync(fd)

    if where == "write":
        monkeypatch.setattr(os, "write", full_write)
    else:
        monkeypatch.setattr(os, "fsync", full_fsync)
    assert main(["--sessions-dir", str(sessions), "run", str(scenario), "--fake"]) == 0
    monkeypatch.setattr(os, "write", real_write)
    monkeypatch.setattr(os, "fsync", real_fsync)
    out = capsys.readouterr().out
    assert "final answer" in out and "Round 3" in out  # the conversation went on in memory
    warned = warnings_in(out)
    assert len(warned) == 2 and "No space left on device" in warned[0]
    [path] = sessions.glob("*.jsonl")
    sid = path.stem
    raw = path.read_bytes()
    complete = raw[: raw.rfind(b"\n") + 1]
    saved = [json.loads(line) for line in complete.splitlines()]
    # With a failing fsync the failed event's line may be complete on disk (fsync fails after
    # the write); either way nothing after the first failure was written.
    assert limit <= len(saved) <= limit + 1 and saved[-1]["kind"] != "session_finished"
    if where == "write":
        assert not raw.endswith(b"\n")  # the torn half line is there

    # The saved part can be shown and the session continued once there is space again.
    assert main(["--sessions-dir", str(sessions), "sessions", "show", sid]) == 0
    shown = capsys.readouterr().out
    assert "unfinished" in shown
    assert main(["--sessions-dir", str(sessions), "resume", sid, "--fake"]) == 0
    assert "resumed" in capsys.readouterr().out
    after = path.read_bytes()
    assert after.startswith(complete)
    events = [json.loads(line) for line in after.splitlines()]
    assert [e["seq"] for e in events] == list(range(len(events)))
    assert events[-1]["kind"] == "session_finished"
