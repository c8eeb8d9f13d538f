"""Fixtures for the code pipeline: the project's own TypeScript toolchain (installed on first use
by ``ensure_tsc``; a missing node/npm fails the tests with the reason)."""

from __future__ import annotations

import pytest

from logomesh_tui.verify.toolchain import ensure_tsc


@pytest.fixture(scope="session")
def toolchain():
    return ensure_tsc()
