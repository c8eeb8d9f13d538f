"""Run the dashboard on FakeBackends: for the tmux test and for trying the UI by hand.

    python tests/tui/demo_app.py [--models-dir DIR] [--sessions-dir DIR]

Models "on disk" are the empty ``NAME.gguf`` files in the models folder (FakeBackend never
reads them); the demo creates the default pool's files there unless --no-models is given.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from logomesh_tui.config import EngineConfig  # noqa: E402
from logomesh_tui.pool.engine import HotSwapEngine  # noqa: E402
from logomesh_tui.tui import LogoMeshApp  # noqa: E402
from tests.tui.scripted import fake_factory  # noqa: E402

DEFAULT_POOL = ["smollm2-135m", "gemma-3-270m", "qwen2.5-coder-0.5b", "qwen2.5-coder-1.5b"]


async def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--models-dir", default="/tmp/logomesh-demo/models")
    parser.add_argument("--sessions-dir", default="/tmp/logomesh-demo/sessions")
    parser.add_argument("--no-models", action="store_true")
    parser.add_argument("--token-delay", type=float, default=0.02)
    parser.add_argument("--disagree", action="store_true",
                        help="models never agree, so conversations end in arbitration")
    args = parser.parse_args(argv)
    models = Path(args.models_dir)
    models.mkdir(parents=True, exist_ok=True)
    if not args.no_models:
        for name in DEFAULT_POOL:
            (models / f"{name}.gguf").touch()
    config = EngineConfig(models_dir=models, sessions_dir=Path(args.sessions_dir),
                          memory_budget=2_000_000_000)
    async with HotSwapEngine(config, backend_factory=fake_factory(args.token_delay, 0.2,
                                                             disagree=args.disagree)) as engine:
        # The tmux test drives the keys from an empty dashboard: no welcome dialog.
        app = LogoMeshApp(engine, config=config, offer_roles=False)
        await app.run_async()
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
