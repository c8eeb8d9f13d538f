"""`logomesh-tui shell`: -c exit codes and errors, a scripted fake collaboration, the REPL."""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys
import time

import pytest

from logomesh_tui.cli.main import main


@pytest.fixture(autouse=True)
def _dirs(tmp_path, monkeypatch):
    monkeypatch.setenv("LOGOMESH_EXPORTS_DIR", str(tmp_path / "exports"))
    monkeypatch.setenv("LOGOMESH_HISTORY", str(tmp_path / "history"))


def test_c_runs_a_command_and_exits_0(capsys):
    assert main(["shell", "-c", "help()"]) == 0
    out = capsys.readouterr().out
    assert "llm.registry.hotswap()" in out and "conversation.export()" in out


def test_c_error_is_one_line_on_stderr_and_exit_1(capsys):
    assert main(["shell", "-c", 'llm.registry.hotswap("documentation-writer", "smollm2-135m")'
                 ]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: column 22: ")
    assert "no role 'documentation-writer' is loaded" in err
    assert main(["shell", "-c", 'llm.registry.load("a"']) == 1
    assert capsys.readouterr().err.startswith("error: column ")


def test_c_never_executes_code(tmp_path, capsys):
    marker = tmp_path / "pwned"
    assert main(["shell", "-c", f"__import__('os').system('touch {marker}')"]) == 1
    assert not marker.exists()
    assert "a command is one dotted name" in capsys.readouterr().err


def test_c_runs_a_whole_fake_collaboration_and_exports_it(tmp_path, capsys):
    script = ('llm.registry.load("qwen2.5-coder-0.5b", "primary-analyzer"); '
              'llm.registry.load("smollm2-135m", "architecture-critic"); '
              'conversation.start("Analyse the useEffect dependencies", max_rounds=4, '
              'arbitration="highest-score"); '
              'llm.registry.hotswap("architecture-critic", "gemma-3-270m"); '
              'conversation.export("multi-model-refactor-session", format="training-data")')
    assert main(["shell", "--fake", "-c", script]) == 0
    out = capsys.readouterr().out
    assert out.index("loaded qwen2.5-coder-0.5b as primary-analyzer") < out.index(
        "conversation finished") < out.index("exported ")
    folder = tmp_path / "exports" / "multi-model-refactor-session"
    records = [json.loads(line) for line in (folder / "train.jsonl").read_text().splitlines()]
    assert records and {r["role"] for r in records} == {"primary-analyzer",
                                                        "architecture-critic"}
    meta = json.loads((folder / "metadata.json").read_text())
    assert meta["protocol"] == "four-round" and meta["rounds_run"] >= 1
    # The session the shell recorded can be opened and exported again by id.
    sid = meta["session_id"]
    assert main(["shell", "-c", f'session.open("{sid}"); '
                                f'conversation.export("again", format="sharegpt")']) == 0
    assert (tmp_path / "exports" / "again" / "train.jsonl").is_file()


def _env(tmp_path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(LOGOMESH_SESSIONS_DIR=str(tmp_path / "sessions"),
               LOGOMESH_CONFIG=str(tmp_path / "config.toml"),
               LOGOMESH_EXPORTS_DIR=str(tmp_path / "exports"),
               LOGOMESH_HISTORY=str(tmp_path / "history"), COLUMNS="200")
    return env


@pytest.mark.toolchain
def test_repl_reads_lines_until_exit(tmp_path):
    lines = ['llm.registry.load("smollm2-135m", "primary-analyzer")',
             'llm.registry.hotswap("smollm2-135m", "primary-analyzer")',
             "llm.registry.list()", "", "exit"]
    proc = subprocess.run([sys.executable, "-m", "logomesh_tui", "shell", "--fake"],
                          input="\n".join(lines) + "\n", capture_output=True, text=True,
                          env=_env(tmp_path), timeout=60)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "loaded smollm2-135m as primary-analyzer" in out
    # The error shows the command, a caret under the bad argument, and the valid roles.
    assert 'llm.registry.hotswap("smollm2-135m", "primary-analyzer")\n' + " " * 21 + "^" in out
    assert "is a model, not a role" in out and "loaded roles: primary-analyzer" in out
    assert "primary-analyzer  smollm2-135m" in out


class _Terminal:
    """Reads a pty, keeping what follows each awaited text for the next wait."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.buf = b""

    def expect(self, needle: bytes, timeout: float = 30.0) -> None:
        end = time.monotonic() + timeout
        while needle not in self.buf:
            left = end - time.monotonic()
            if left <= 0:
                raise AssertionError(f"{needle!r} not seen; got {self.buf[-500:]!r}")
            ready, _, _ = select.select([self.fd], [], [], left)
            if ready:
                try:
                    chunk = os.read(self.fd, 4096)
                except OSError:
                    break
                if not chunk:
                    break
                self.buf += chunk
        if needle not in self.buf:
            raise AssertionError(f"{needle!r} not seen; got {self.buf[-500:]!r}")
        self.buf = self.buf[self.buf.index(needle) + len(needle):]


@pytest.mark.toolchain
def test_repl_on_a_terminal_completes_and_keeps_history(tmp_path):
    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "logomesh_tui", "shell", "--fake"],
                            stdin=slave, stdout=slave, stderr=slave, env=_env(tmp_path),
                            close_fds=True)
    os.close(slave)
    term = _Terminal(master)
    try:
        term.expect(b"DevShell> ")
        os.write(master, b"llm.registry.li\t")  # Tab completes the command name
        term.expect(b"llm.registry.list()")
        os.write(master, b"\r")
        term.expect(b"no models loaded")
        term.expect(b"DevShell> ")
        os.write(master, b"help()\r")
        term.expect(b"session.open()")
        term.expect(b"DevShell> ")
        os.write(master, b"exit\r")
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(master)
    history = (tmp_path / "history").read_text()
    assert "llm.registry.list()" in history and "help()" in history
