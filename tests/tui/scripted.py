"""A FakeBackend responder that follows the orchestrator's turn schema, for dashboard tests.

It answers every turn with valid JSON: the first allowed message type, a reference to the
latest citable message, a vote for the first candidate when one is asked for, and a sentence
long enough that the timeline visibly streams it token by token.
"""

from __future__ import annotations

import json

from logomesh_tui.config import EngineConfig
from logomesh_tui.pool.fake import FakeBackend
from logomesh_tui.pool.types import GenerationRequest

WORDS = ("the effect dependencies re-render the list on every keystroke so memoise the "
         "filtered rows and extract a custom hook before profiling again").split()


def schema_responder(request: GenerationRequest, backend: FakeBackend,
                     disagree: bool = False) -> str:
    """``disagree``: cite nothing and vote by model name, so two roles on different models
    back different proposals to the end and the session has to ask for arbitration."""
    schema = request.json_schema
    if schema is None:
        return f"{backend.model_id} summary of the discussion so far"
    props = schema.get("properties", {})
    types = props.get("message_type", {}).get("enum", ["analysis"])
    citable = props.get("references", {}).get("items", {}).get("enum", [])
    n = backend.calls
    reply = {
        "message_type": types[0],
        "content": f"{backend.model_id} turn {n}: " + " ".join(WORDS[: 8 + n % 8]),
        "references": [] if disagree else citable[-1:],
        "confidence": 0.8,
    }
    if "vote" in props:
        choices = props["vote"]["enum"]
        pick = sum(map(ord, backend.model_id)) % len(choices) if disagree else 0
        reply["vote"] = choices[pick]
    return json.dumps(reply)


def fake_factory(token_delay_s: float = 0.0, load_delay_s: float = 0.0,
                 disagree: bool = False):
    """backend_factory for HotSwapEngine: FakeBackends that answer with schema_responder."""
    def respond(request: GenerationRequest, backend: FakeBackend) -> str:
        return schema_responder(request, backend, disagree)

    def factory(model_id: str, config: EngineConfig) -> FakeBackend:
        return FakeBackend(model_id, responder=respond, token_delay_s=token_delay_s,
                           load_delay_s=load_delay_s, n_ctx=2048)
    return factory
