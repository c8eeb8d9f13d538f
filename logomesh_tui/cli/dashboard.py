"""`logomesh-tui` with no subcommand: open the dashboard (or serve it in a browser)."""

from __future__ import annotations

import argparse
import asyncio
import shlex
import sys

from ..config import EngineConfig


def run_dashboard(args: argparse.Namespace) -> int:
    """Open the Textual dashboard on this terminal; ``--serve`` puts it in a browser instead."""
    if getattr(args, "serve", False):
        return serve(port=getattr(args, "port", 8000))
    return asyncio.run(_run())


async def _run() -> int:
    # Imported here so the headless subcommands never load textual.
    from ..pool.engine import HotSwapEngine
    from ..tui import LogoMeshApp

    config = EngineConfig.load()
    async with HotSwapEngine(config) as engine:
        app = LogoMeshApp(engine, config=config)
        await app.run_async()
        return app.return_code or 0


def serve(port: int = 8000, host: str = "localhost") -> int:
    """Serve the same app through textual-serve: each browser tab runs its own dashboard.

    The options given on the command line reach the served app through the LOGOMESH_*
    environment variables that ``cli.main`` sets.
    """
    from textual_serve.server import Server

    command = f"{shlex.quote(sys.executable)} -m logomesh_tui"
    Server(command, host=host, port=port, title="LogoMesh").serve()
    return 0
