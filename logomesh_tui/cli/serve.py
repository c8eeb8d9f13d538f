"""`logomesh-tui --serve`: the dashboard in a browser through textual-serve, one dashboard
process per browser tab.

Plain textual-serve starts each tab's dashboard with ``/bin/sh -c`` in the server's own process
group, and on SIGTERM or SIGINT it waits for every websocket handler (aiohttp's shutdown timeout
is 60 s) while each handler waits for its dashboard to quit. Here each dashboard runs in a
process group of its own, which its model workers share; SIGTERM or SIGINT ends every group
(SIGTERM, then SIGKILL after a short grace), closes the websockets and stops the server, in
about a second. A dashboard whose tab closed is asked to quit and killed if it does not.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shlex
import signal
import sys
import time
from asyncio.subprocess import PIPE, Process
from typing import Any

import psutil
from aiohttp import WSCloseCode, web
from aiohttp.web_runner import GracefulExit
from textual_serve.app_service import AppService
from textual_serve.server import Server, log, to_int

from ..errors import EXIT_INTERRUPTED

# Seconds a dashboard gets to exit after SIGTERM before its processes are killed.
STOP_GRACE_S = 0.8
# Seconds a dashboard whose browser tab closed gets to quit on its own.
QUIT_GRACE_S = 5.0
# Seconds aiohttp waits for request handlers once the dashboards are gone.
SHUTDOWN_TIMEOUT_S = 1.0
# Seconds given to closing each browser websocket at shutdown.
CLOSE_TIMEOUT_S = 0.5


def dashboard_argv(options: list[str] | None = None) -> list[str]:
    """The command each browser tab's dashboard runs: this interpreter, this package."""
    return [sys.executable, "-m", "logomesh_tui", *(options or [])]


def process_tree(pid: int) -> list[psutil.Process]:
    """The process ``pid`` and all its descendants (empty when it is gone)."""
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.Error:
        return []


def _alive(proc: psutil.Process) -> bool:
    try:
        return proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def _signal(procs: list[psutil.Process], groups: set[int], sig: int) -> None:
    for pgid in groups:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, sig)
    for proc in procs:
        with contextlib.suppress(psutil.Error):
            proc.send_signal(sig)  # psutil checks the pid was not reused


async def end_processes(procs: list[psutil.Process], groups: set[int],
                        grace: float = STOP_GRACE_S) -> None:
    """SIGTERM ``procs`` and the process groups ``groups``; SIGKILL whatever is left after
    ``grace`` seconds, then wait (briefly) until they are gone."""
    _signal(procs, groups, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while any(_alive(p) for p in procs) and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
    _signal([p for p in procs if _alive(p)], groups, signal.SIGKILL)
    deadline = time.monotonic() + grace
    while any(_alive(p) for p in procs) and time.monotonic() < deadline:
        await asyncio.sleep(0.02)


class DashboardService(AppService):
    """One browser tab's dashboard, started without a shell in a process group of its own."""

    def __init__(self, server: DashboardServer, **kwargs: Any) -> None:
        super().__init__(server.command, **kwargs)
        self.server = server

    async def _open_app_process(self, width: int = 80, height: int = 24) -> Process:
        environment = self._build_environment(width=width, height=height)
        self._process = process = await asyncio.create_subprocess_exec(
            *self.server.argv, stdin=PIPE, stdout=PIPE, stderr=PIPE, env=environment,
            start_new_session=True)
        assert process.stdin is not None
        self._stdin = process.stdin
        self.server.track(process)
        return process

    async def stop(self) -> None:
        """Ask the dashboard to quit; kill what is left of it when it does not in time."""
        task, self._task = self._task, None
        process = self._process
        try:
            if task is not None:
                await self._download_manager.cancel_app_downloads(
                    app_service_id=self.app_service_id)
                await self.send_meta({"type": "quit"})
                grace = STOP_GRACE_S if self.server.stopping else QUIT_GRACE_S
                await asyncio.wait({task}, timeout=grace)
            if process is not None:  # the dashboard, or workers it left behind
                tree = process_tree(process.pid) if process.returncode is None else []
                await end_processes(tree, {process.pid})
            if task is not None:
                await asyncio.wait({task}, timeout=STOP_GRACE_S)  # its pipes are closed now
                if not task.done():
                    task.cancel()
        finally:
            if process is not None:
                self.server.untrack(process)


class DashboardServer(Server):
    """textual-serve's server, with dashboards that end when it does."""

    def __init__(self, argv: list[str], **kwargs: Any) -> None:
        super().__init__(shlex.join(argv), **kwargs)
        self.argv = list(argv)
        self.processes: set[Process] = set()
        self.sockets: set[web.WebSocketResponse] = set()
        self.stopping = False
        self.exit_signal: int | None = None
        # The dashboards' processes as the signal found them: a worker whose dashboard dies
        # first is no longer its descendant, and is still ended.
        self.doomed: list[psutil.Process] = []

    def track(self, process: Process) -> None:
        self.processes.add(process)
        if self.stopping:  # started while the server was stopping
            tree = process_tree(process.pid)
            self.doomed += tree
            _signal(tree, {process.pid}, signal.SIGKILL)

    def untrack(self, process: Process) -> None:
        self.processes.discard(process)

    def request_exit(self, sig: int = signal.SIGTERM) -> None:
        """The signal handler: end the dashboards at once, then stop the server."""
        if self.stopping:
            return  # a second signal while stopping: the shutdown already under way goes on
        self.stopping = True
        self.exit_signal = sig
        self.doomed = self._trees()
        _signal(self.doomed, self._groups(), signal.SIGTERM)
        raise GracefulExit()

    def _trees(self) -> list[psutil.Process]:
        return [p for process in self.processes if process.returncode is None
                for p in process_tree(process.pid)]

    def _groups(self) -> set[int]:
        return {process.pid for process in self.processes}

    async def on_shutdown(self, app: web.Application) -> None:
        """Called by aiohttp before it waits for the handlers: close the browser websockets
        and make sure every dashboard and its workers are gone."""
        self.stopping = True
        await asyncio.gather(self._close_sockets(),
                             end_processes(self.doomed + self._trees(), self._groups()))

    async def _close_sockets(self) -> None:
        async def close(ws: web.WebSocketResponse) -> None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(ws.close(code=WSCloseCode.GOING_AWAY,
                                                message=b"server shutting down"),
                                       CLOSE_TIMEOUT_S)

        await asyncio.gather(*(close(ws) for ws in list(self.sockets)))

    def serve(self, debug: bool = False) -> None:
        self.debug = debug
        self.initialize_logging()
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self.request_exit, sig)
        web.run_app(self._make_app(), host=self.host, port=self.port, handle_signals=False,
                    loop=loop, print=lambda *args: None, shutdown_timeout=SHUTDOWN_TIMEOUT_S)

    async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
        """textual-serve's handler, with a dashboard of :class:`DashboardService`."""
        websocket = web.WebSocketResponse(heartbeat=15)
        width = to_int(request.query.get("width", "80"), 80)
        height = to_int(request.query.get("height", "24"), 24)
        if self.stopping:
            raise web.HTTPServiceUnavailable(text="the server is shutting down")
        service: DashboardService | None = None
        self.sockets.add(websocket)
        try:
            await websocket.prepare(request)
            service = DashboardService(
                self, write_bytes=websocket.send_bytes, write_str=websocket.send_str,
                close=websocket.close, download_manager=self.download_manager,
                debug=self.debug)
            await service.start(width, height)
            await self._process_messages(websocket, service)
        except asyncio.CancelledError:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(websocket.close(), CLOSE_TIMEOUT_S)
        except Exception as error:
            log.exception(error)
        finally:
            self.sockets.discard(websocket)
            if service is not None:
                await service.stop()
        return websocket


def serve(port: int = 8000, host: str = "localhost", options: list[str] | None = None) -> int:
    """Serve the dashboard, each browser tab's started with the global ``options``
    (--config, --sessions-dir). Returns 0 after SIGTERM, 130 after SIGINT (Ctrl+C)."""
    server = DashboardServer(dashboard_argv(options), host=host, port=port, title="LogoMesh")
    server.serve()
    return EXIT_INTERRUPTED if server.exit_signal == signal.SIGINT else 0
