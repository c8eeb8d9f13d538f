"""Shared fixtures. Real-model tests use the models folder the project's set-up pulls into
(`logomesh-tui models pull --default-pool`); a missing model fails the test with the command that
fixes it rather than skipping it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

from logomesh_tui.catalog import Catalog
from logomesh_tui.config import EngineConfig

# Property tests try the same examples on every run, so CI passes or fails on the code, not on
# the draw. HYPOTHESIS_PROFILE=explore draws new examples (for hunting bugs locally); what it
# finds goes into the test as an @example.
settings.register_profile("repeatable", derandomize=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))


@pytest.fixture(autouse=True)
def _isolated_dirs(tmp_path, monkeypatch):
    """Sessions, config and UI state go to tmp_path; the (read-only) models folder stays shared."""
    monkeypatch.setenv("LOGOMESH_SESSIONS_DIR", str(tmp_path / "sessions"))
    monkeypatch.setenv("LOGOMESH_CONFIG", str(tmp_path / "config.toml"))
    monkeypatch.setenv("LOGOMESH_STATE_DIR", str(tmp_path / "state"))  # the remembered theme
    yield


def require_model(name: str) -> Path:
    catalog = Catalog.from_config(EngineConfig())
    path = catalog.path_for(catalog.get(name))
    if not path.exists():
        pytest.fail(f"{name} is not on disk at {path}; run `logomesh-tui models pull {name}`")
    return path


@pytest.fixture
def real_config(tmp_path) -> EngineConfig:
    """A config for real models: small windows and 1 thread each so tests stay quick on 2 cores."""
    require_model("smollm2-135m")
    return EngineConfig(n_ctx=1024, n_threads=max(1, (os.cpu_count() or 2) // 2),
                        sessions_dir=tmp_path / "sessions", turn_timeout_s=120)
