"""Export tests write into tmp_path; recorded sessions come from sessions_fixture."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from sessions_fixture import SessionBuilder, four_round_session  # noqa: E402


@pytest.fixture(autouse=True)
def _exports_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("LOGOMESH_EXPORTS_DIR", str(tmp_path / "exports"))


@pytest.fixture
def sessions_dir(tmp_path) -> Path:
    return tmp_path / "sessions"


@pytest.fixture
def session(sessions_dir) -> SessionBuilder:
    return four_round_session(sessions_dir)
