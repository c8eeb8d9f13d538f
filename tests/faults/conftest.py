"""Fixtures for fault tests (helpers live in tests/faults/helpers.py)."""

from __future__ import annotations

import pytest

from logomesh_tui.config import EngineConfig
from tests.conftest import require_model
from tests.faults.helpers import SMOL


@pytest.fixture
def small_config(tmp_path) -> EngineConfig:
    """Real smollm2-135m workers kept small: 1 thread, n_ctx 1024. Roles do not share workers,
    so a fault hits one role's process only (sharing is tested in tests/pool)."""
    require_model(SMOL)
    return EngineConfig(n_ctx=1024, n_threads=1, sessions_dir=tmp_path / "sessions",
                        turn_timeout_s=60, load_timeout_s=60, share_workers=False)
