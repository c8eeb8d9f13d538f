"""`logomesh-tui --serve` puts the same dashboard in a browser (textual-serve): the page loads
and its websocket streams the dashboard's screen; SIGTERM or SIGINT ends the server and every
process it started, with a browser connected."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import aiohttp
import psutil
import pytest

pytestmark = pytest.mark.toolchain

REPO = str(Path(__file__).resolve().parents[2])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(tmp_path: Path, port: int, code: str | None = None) -> subprocess.Popen:
    """``logomesh-tui --serve --port PORT`` in tmp_path, or ``python -c code`` when given."""
    # Put this checkout first on the server's path (and on the path of the app processes it
    # starts) so it serves this code, installed or not.
    pythonpath = os.pathsep.join(filter(None, [REPO, os.environ.get("PYTHONPATH")]))
    env = dict(os.environ, LOGOMESH_MODELS_DIR=str(tmp_path / "models"),
               LOGOMESH_SESSIONS_DIR=str(tmp_path / "sessions"), PYTHONPATH=pythonpath)
    argv = (["-c", code] if code is not None
            else ["-m", "logomesh_tui", "--serve", "--port", str(port)])
    return subprocess.Popen([sys.executable, *argv], env=env, cwd=tmp_path,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


async def wait_for_page(http: aiohttp.ClientSession, port: int) -> str:
    # Deadlines here are generous: waits end as soon as the server answers, and a busy machine
    # can take long to start Python and Textual.
    deadline = time.monotonic() + 90
    while True:
        try:
            async with http.get(f"http://127.0.0.1:{port}/") as page:
                return await page.text()
        except aiohttp.ClientConnectionError:
            assert time.monotonic() < deadline, "the server never answered"
            await asyncio.sleep(0.2)


async def read_screen_until(ws: aiohttp.ClientWebSocketResponse, text: bytes) -> bytes:
    screen = b""
    deadline = time.monotonic() + 90
    while text not in screen and time.monotonic() < deadline:
        try:
            msg = await asyncio.wait_for(ws.receive(), 5)
        except TimeoutError:
            continue
        if msg.type == aiohttp.WSMsgType.BINARY:
            screen += msg.data
        elif msg.type == aiohttp.WSMsgType.TEXT:
            screen += msg.data.encode()
        else:
            break
    return screen


def alive(proc: psutil.Process) -> bool:
    try:
        return proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


async def stop_and_time(server: subprocess.Popen, procs: list[psutil.Process],
                        sig: int) -> float:
    """Send ``sig`` to the server; seconds until it and every process in ``procs`` are gone
    (a zombie counts as gone: only its exit status is left, for its parent to collect)."""
    names = {}
    for p in procs:
        try:
            names[p.pid] = " ".join(p.cmdline())
        except psutil.Error:
            names[p.pid] = "?"
    start = time.monotonic()
    server.send_signal(sig)
    deadline = start + 10  # generous: the requirement is 2 s
    while (server.poll() is None or any(alive(p) for p in procs)) \
            and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
    elapsed = time.monotonic() - start
    left = [f"{p.pid} {names[p.pid]}" for p in procs if alive(p)]
    assert server.poll() is not None and not left, \
        f"still running {elapsed:.1f} s after {signal.Signals(sig).name}: server " \
        f"{'exited' if server.poll() is not None else 'running'}, {left}"
    print(f"{signal.Signals(sig).name}: server and {len(procs)} descendants gone in "
          f"{elapsed:.2f} s")
    return elapsed


def kill_leftovers(server: subprocess.Popen, procs: list[psutil.Process]) -> None:
    for proc in procs:
        if alive(proc):
            proc.kill()
    if server.poll() is None:
        server.kill()
    server.wait(timeout=10)


@pytest.mark.parametrize("sig, code", [(signal.SIGTERM, 0), (signal.SIGINT, 130)])
async def test_serve_streams_the_dashboard_and_a_signal_ends_it(tmp_path, sig, code):
    """With a browser connected, SIGTERM or SIGINT ends the server, the dashboard it started
    for that browser and everything under it; the server exits 0, or 130 after SIGINT."""
    port = free_port()
    server = start_server(tmp_path, port)
    procs: list[psutil.Process] = []
    try:
        async with aiohttp.ClientSession() as http:
            assert "textual" in (await wait_for_page(http, port)).lower()
            async with http.ws_connect(f"http://127.0.0.1:{port}/ws?width=80&height=24") as ws:
                await ws.send_str(json.dumps(["resize", {"width": 80, "height": 24}]))
                screen = await read_screen_until(ws, b"DevShell")
                assert b"Models" in screen and b"DevShell" in screen
                procs = psutil.Process(server.pid).children(recursive=True)
                assert any("logomesh_tui" in " ".join(p.cmdline()) for p in procs), procs
                await stop_and_time(server, procs, sig)
                assert server.returncode == code
    finally:
        kill_leftovers(server, procs)


# An app that ignores SIGTERM, with a worker in its process group that ignores it too and a
# helper in a session of its own (outside that group). It says it is a Textual app and waits.
STUBBORN_APP = textwrap.dedent("""
    import signal, subprocess, sys, time
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    sleeper = [sys.executable, "-c", "import time; time.sleep(600)"]
    subprocess.Popen(sleeper)
    subprocess.Popen(sleeper, start_new_session=True)
    sys.stdout.write("__GANGLION__\\n")
    sys.stdout.flush()
    time.sleep(600)
""")


@pytest.mark.parametrize("sig, code", [(signal.SIGTERM, 0), (signal.SIGINT, 130)])
async def test_a_signal_ends_apps_that_ignore_sigterm_and_what_they_started(tmp_path, sig, code):
    """An app that ignores SIGTERM is killed, with its group and the processes it started in
    sessions of their own; the server exits 0 after SIGTERM, 130 after SIGINT (Ctrl+C)."""
    port = free_port()
    server = start_server(tmp_path, port, textwrap.dedent(f"""
        import sys
        from logomesh_tui.cli import serve
        serve.dashboard_argv = lambda options=None: [sys.executable, "-c", {STUBBORN_APP!r}]
        sys.exit(serve.serve(port={port}, host="127.0.0.1"))
    """))
    procs: list[psutil.Process] = []
    try:
        async with aiohttp.ClientSession() as http:
            await wait_for_page(http, port)
            async with http.ws_connect(f"http://127.0.0.1:{port}/ws?width=80&height=24"):
                deadline = time.monotonic() + 60
                while len(procs) < 3:  # the app and its two sleepers
                    assert time.monotonic() < deadline, f"the app never started: {procs}"
                    await asyncio.sleep(0.1)
                    procs = psutil.Process(server.pid).children(recursive=True)
                # The app and its sleepers ignore SIGTERM: the group is killed after the grace.
                await stop_and_time(server, procs, sig)
                assert server.returncode == code
    finally:
        kill_leftovers(server, procs)
