"""`logomesh-tui --serve` puts the same dashboard in a browser (textual-serve): the page loads
and its websocket streams the dashboard's screen."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import aiohttp

REPO = str(Path(__file__).resolve().parents[2])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_serve_streams_the_dashboard_to_a_browser(tmp_path):
    port = free_port()
    # The server runs in tmp_path; put this checkout first on its path (and on the path of the
    # app process textual-serve starts) so it serves this code, installed or not.
    pythonpath = os.pathsep.join(filter(None, [REPO, os.environ.get("PYTHONPATH")]))
    env = dict(os.environ, LOGOMESH_MODELS_DIR=str(tmp_path / "models"),
               LOGOMESH_SESSIONS_DIR=str(tmp_path / "sessions"), PYTHONPATH=pythonpath)
    server = subprocess.Popen([sys.executable, "-m", "logomesh_tui", "--serve", "--port",
                               str(port)], env=env, cwd=tmp_path,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        async with aiohttp.ClientSession() as http:
            # Deadlines here are generous: waits end as soon as the server answers, and a busy
            # machine can take long to start Python and Textual.
            deadline = time.monotonic() + 90
            while True:
                try:
                    async with http.get(f"http://127.0.0.1:{port}/") as page:
                        html = await page.text()
                        break
                except aiohttp.ClientConnectionError:
                    assert time.monotonic() < deadline, "the server never answered"
                    await asyncio.sleep(0.2)
            assert "textual" in html.lower()
            async with http.ws_connect(f"http://127.0.0.1:{port}/ws?width=80&height=24") as ws:
                await ws.send_str(json.dumps(["resize", {"width": 80, "height": 24}]))
                screen = b""
                deadline = time.monotonic() + 90
                while b"DevShell" not in screen and time.monotonic() < deadline:
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
                assert b"Models" in screen and b"DevShell" in screen
    finally:
        server.terminate()
        server.wait(timeout=10)
