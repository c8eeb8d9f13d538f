"""Snapshots of the main screen at 80x24 and 160x50 (pytest-textual-snapshot).

The state is built deterministically: models loaded on FakeBackends with no delays, a fixed
conversation posted as the orchestrator would post it, fixed metrics, no periodic refresh
(it samples memory over time) and no focused input (its cursor blinks).
Update after an intended change with ``pytest tests/tui/test_snapshots.py --snapshot-update``.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from logomesh_tui.config import EngineConfig
from logomesh_tui.conversation.messages import LLMMessage, MessageType, Vote
from logomesh_tui.pool.engine import HotSwapEngine
from logomesh_tui.sessions.events import ConsensusScored, SessionStarted, Swap, VoteCast
from logomesh_tui.tui import LogoMeshApp
from logomesh_tui.tui.messages import ConversationEvent, ConversationMessage

from .conftest import POOL, make_models_dir
from .scripted import fake_factory

AT = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def conversation() -> list[object]:
    def msg(i: int, role: str, model: str, kind: MessageType, text: str, refs: list[str],
            conf: float) -> LLMMessage:
        return LLMMessage(id=f"id{i:04d}", short_id=f"m{i}", from_role=role, model_id=model,
                          message_type=kind, content=text, references_to=refs,
                          confidence=conf, timestamp=AT, round=1 + (i - 1) // 2)

    return [
        ConversationEvent(SessionStarted(protocol="four-round", participants={
            "primary-analyzer": "smollm2-135m", "architecture-critic": "gemma-3-270m"})),
        ConversationMessage(msg(1, "primary-analyzer", "smollm2-135m", MessageType.PROPOSAL,
                                "Three useEffect hooks miss dependencies; memoise the rows.",
                                [], 0.72)),
        ConversationMessage(msg(2, "architecture-critic", "gemma-3-270m", MessageType.PROPOSAL,
                                "Extract a useFilteredRows hook before optimising.", [], 0.64)),
        ConversationEvent(ConsensusScored(round=1, score=0.5)),
        ConversationMessage(msg(3, "architecture-critic", "gemma-3-270m", MessageType.CRITIQUE,
                                "Memoising first hides the real problem: state lives too high.",
                                ["id0001"], 0.58)),
        ConversationEvent(Swap(role="architecture-critic", old_model_id="gemma-3-270m",
                               new_model_id="qwen2.5-coder-0.5b", seconds=0.8)),
        ConversationEvent(VoteCast(vote=Vote(voter="primary-analyzer", target_id="id0002",
                                             weight=0.7))),
        ConversationEvent(ConsensusScored(round=2, score=0.85)),
    ]


def build_app(tmp_path) -> LogoMeshApp:
    config = EngineConfig(models_dir=make_models_dir(tmp_path / "models", POOL),
                          sessions_dir=tmp_path / "sessions", memory_budget=2_000_000_000,
                          n_threads=1)
    engine = HotSwapEngine(config, backend_factory=fake_factory())
    return LogoMeshApp(engine, config=config, offer_pull=False, refresh_s=3600)


async def populate(pilot) -> None:
    app: LogoMeshApp = pilot.app
    await app.engine.load_model("smollm2-135m", "primary-analyzer")
    await app.engine.load_model("gemma-3-270m", "architecture-critic", pinned=True)
    for model, values in {"smollm2-135m": [70, 82, 78, 85], "gemma-3-270m": [50, 61, 58]}.items():
        for v in values:
            app.metrics.record_turn(model, v, 1.0 + v / 100)
    for total in (0, 100_000_000, 200_000_000, 200_000_000):
        app.metrics.record_memory(total)
    for message in conversation():
        app.post_message(message)
    await pilot.pause()
    app.refresh_registry()
    await pilot.pause()


@pytest.mark.parametrize("size", [(80, 24), (160, 50)], ids=["80x24", "160x50"])
def test_main_screen(snap_compare, tmp_path, size):
    assert snap_compare(build_app(tmp_path), terminal_size=size, run_before=populate)


def test_light_theme_80x24(snap_compare, tmp_path):
    async def light(pilot) -> None:
        await populate(pilot)
        await pilot.press("ctrl+t")

    assert snap_compare(build_app(tmp_path), terminal_size=(80, 24), run_before=light)
