"""Scripted replies for orchestration tests."""

from __future__ import annotations

import json

from logomesh_tui.pool.fake import FakeBackend
from logomesh_tui.pool.types import GenerationRequest


def schema_reply(request: GenerationRequest, backend: FakeBackend, *, vote_index: int = 0,
                 confidence: float | None = None, content: str | None = None) -> str:
    """A valid turn: the round's first type, citing the newest citable id, voting by index."""
    if request.json_schema is None:
        return f"summary by {backend.model_id}"
    props = request.json_schema["properties"]
    refs = props["references"]["items"].get("enum", [])
    reply = {
        "message_type": props["message_type"]["enum"][0],
        "content": content or f"{backend.model_id} point {backend.calls}",
        "references": refs[-1:],
        "confidence": confidence if confidence is not None else 0.5 + 0.1 * (backend.calls % 4),
    }
    if "vote" in props:
        enum = props["vote"]["enum"]
        reply["vote"] = enum[min(vote_index, len(enum) - 1)]
    return json.dumps(reply)
