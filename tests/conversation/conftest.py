"""Helpers for orchestration tests: scripted FakeBackends that answer the turn schema."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from conv_helpers import schema_reply

from logomesh_tui.pool.fake import FakeBackend


@pytest.fixture
def make_backend() -> Callable[..., FakeBackend]:
    """make_backend(model_id, n_ctx=2048, **schema_reply kwargs) -> FakeBackend."""

    def make(model_id: str, n_ctx: int = 2048, responder=None, **kw) -> FakeBackend:
        if responder is None:
            def responder(req, b):
                return schema_reply(req, b, **kw)
        return FakeBackend(model_id, n_ctx=n_ctx, responder=responder)

    return make


@pytest.fixture
def roles() -> list[str]:
    return ["primary-analyzer", "architecture-critic", "optimization-specialist",
            "documentation-writer"]
