"""Shared fixtures. Real-model tests use the models folder the project's set-up pulls into
(`logomesh-tui models pull --default-pool`); a missing model fails the test with the command that
fixes it rather than skipping it.

Tests that read real model files or start real worker processes carry the ``real`` marker, and
tests that run the real TypeScript toolchain (tsc, eslint, the harness, node in the sandbox, a
fixture project's own tools) or start the CLI, a server or tmux as a subprocess carry the
``toolchain`` marker, so that ``./check.sh --fast`` (``-m "not real and not toolchain"``) runs
only the ones on scripted backends and fixtures; the full run runs them all. Files named ``*_real.py``, ``tests/soak`` and tests using the ``real_config`` or
``small_config`` fixtures are marked here; any other test marks itself. A test without the mark
that calls :func:`require_model` or starts a worker fails, saying so."""

from __future__ import annotations

import os
from pathlib import Path
from typing import NoReturn

import pytest
from hypothesis import settings

from logomesh_tui.catalog import Catalog
from logomesh_tui.config import EngineConfig
from logomesh_tui.pool.local import LocalWorker

# Property tests try the same examples on every run, so CI passes or fails on the code, not on
# the draw. HYPOTHESIS_PROFILE=explore draws new examples (for hunting bugs locally); what it
# finds goes into the test as an @example.
settings.register_profile("repeatable", derandomize=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))


#: Fixtures that give a test real models in worker processes.
REAL_FIXTURES = frozenset({"real_config", "small_config"})
# The running test when it is not marked ``real`` (then real models and workers are refused).
_unmarked_test: str | None = None


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark ``real`` what needs real models by its file or fixtures (before ``-m`` selects)."""
    for item in items:
        path = item.path
        if (path.name.endswith("_real.py") or "soak" in path.parts
                or REAL_FIXTURES & set(getattr(item, "fixturenames", ()))):
            item.add_marker(pytest.mark.real)


def _refuse(what: str) -> NoReturn:
    pytest.fail(f"{_unmarked_test} {what} but is not marked real: add @pytest.mark.real (so "
                "that ./check.sh --fast leaves it out)")


@pytest.fixture(autouse=True)
def _real_only_when_marked(request, monkeypatch):
    """A test not marked ``real`` may not start a real worker process or ask for a model file."""
    global _unmarked_test
    if request.node.get_closest_marker("real") is not None:
        yield
        return

    async def start(self: LocalWorker) -> float:
        _refuse(f"starts a worker process for {self.model_id}")

    monkeypatch.setattr(LocalWorker, "start", start)
    _unmarked_test = request.node.nodeid
    try:
        yield
    finally:
        _unmarked_test = None


@pytest.fixture(autouse=True)
def _isolated_dirs(tmp_path, monkeypatch):
    """Sessions, config and UI state go to tmp_path; the (read-only) models folder stays shared."""
    monkeypatch.setenv("LOGOMESH_SESSIONS_DIR", str(tmp_path / "sessions"))
    monkeypatch.setenv("LOGOMESH_CONFIG", str(tmp_path / "config.toml"))
    monkeypatch.setenv("LOGOMESH_STATE_DIR", str(tmp_path / "state"))  # the remembered theme
    yield


def require_model(name: str) -> Path:
    """The path of a real model file (only for tests marked ``real``)."""
    if _unmarked_test is not None:
        _refuse(f"reads the real model {name}")
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
