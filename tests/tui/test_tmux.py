"""The dashboard in a real terminal: tmux at 80x24, keys sent as a person types them.

Needs tmux (`apt-get install -y tmux`; install.sh --test installs it). A missing tmux fails
the test with that instruction rather than skipping it.
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.toolchain

DEMO = Path(__file__).with_name("demo_app.py")


@pytest.fixture
def tmux(tmp_path):
    if shutil.which("tmux") is None:
        pytest.fail("tmux is not installed; install it with `apt-get install -y tmux` "
                    "(./install.sh --test does) and run the tests again")
    name = f"logomesh-{tmp_path.name}"[:60]
    command = " ".join(shlex.quote(a) for a in [
        sys.executable, str(DEMO), "--models-dir", str(tmp_path / "models"),
        "--sessions-dir", str(tmp_path / "sessions"), "--token-delay", "0.01"])
    subprocess.run(["tmux", "new-session", "-d", "-s", name, "-x", "80", "-y", "24",
                    command], check=True)
    try:
        yield Terminal(name, tmp_path)
    finally:
        subprocess.run(["tmux", "kill-session", "-t", name], capture_output=True)


class Terminal:
    def __init__(self, name: str, tmp_path: Path) -> None:
        self.name = name
        self.log = tmp_path / "screens.txt"

    def screen(self) -> str:
        out = subprocess.run(["tmux", "capture-pane", "-p", "-t", self.name],
                             capture_output=True, text=True).stdout
        with self.log.open("a") as f:
            f.write(out + "\n" + "=" * 80 + "\n")
        return out

    def keys(self, *keys: str, literal: bool = False) -> None:
        subprocess.run(["tmux", "send-keys", "-t", self.name, *(["-l"] if literal else []),
                        *keys], check=True)
        time.sleep(0.3)

    def wait_for(self, text: str, timeout: float = 90.0) -> str:
        """The screen once ``text`` is on it; the wait ends as soon as it is (a generous bound,
        for real models on a busy machine)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            screen = self.screen()
            if text in screen:
                return screen
            time.sleep(0.2)
        raise AssertionError(f"{text!r} never appeared; last screen:\n{self.screen()}")


def test_dashboard_in_tmux_at_80x24(tmux):
    first = tmux.wait_for("f2 Load")
    lines = first.splitlines()
    assert len(lines) <= 24 and all(len(line) <= 80 for line in lines)
    for pane in ("Models", "Conversation", "Metrics", "DevShell"):
        assert pane in first
    assert "f2 Load" in first and "f4 Swap" in first

    tmux.keys("F2")
    tmux.wait_for("Load: pick the role")
    tmux.keys("Enter")
    tmux.wait_for("Load: model for primary-analyzer")
    tmux.keys("Enter")
    screen = tmux.wait_for("loaded smollm2-135m as primary-analyzer")
    assert any("primary-analyzer" in line and "ready" in line for line in screen.splitlines())

    tmux.keys(":")
    tmux.keys('llm.registry.load("gemma-3-270m", "architecture-critic")', literal=True)
    tmux.keys("Enter")
    tmux.wait_for("loaded gemma-3-270m as architecture-critic")

    tmux.keys("Escape")
    tmux.keys("F5")
    tmux.wait_for("What should the models work on?")
    tmux.keys("Review the component", literal=True)
    tmux.keys("Enter")
    tmux.wait_for("Protocol")
    tmux.keys("Enter")
    tmux.wait_for("PROPOSAL")
    screen = tmux.wait_for("finished", timeout=300)
    assert "consensus" in screen

    tmux.keys("F1")
    tmux.wait_for("LogoMesh — keys")
    tmux.keys("Escape")
    tmux.keys("C-q")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        alive = subprocess.run(["tmux", "has-session", "-t", tmux.name], capture_output=True)
        if alive.returncode != 0:
            break
        time.sleep(0.2)
    else:
        raise AssertionError("ctrl+q did not quit the dashboard")
