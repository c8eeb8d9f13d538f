"""LogoMesh TUI: several local LLMs in a structured, hot-swappable conversation.

The engine (pool, conversation, sessions, export) is importable without Textual. The names below
are loaded on first use, so importing one part (``logomesh_tui.pool``) loads only that part.
"""

from __future__ import annotations

import importlib
from typing import Any

# Each public name and the module it comes from.
_EXPORTS = {
    "EngineConfig": "config", "RemoteEndpoint": "config", "LogoMeshError": "errors",
    "HotSwapEngine": "pool.engine", "RoleExecutor": "pool.engine",
    "GenerationRequest": "pool.types", "GenerationResult": "pool.types",
    "MemoryStats": "pool.types", "ModelInfo": "pool.types", "ModelStatus": "pool.types",
    "PoolEvent": "pool.types",
    # conversation bus and orchestrator
    "CollaborativeResponse": "conversation", "ConversationBus": "conversation",
    "LLMMessage": "conversation", "MultiModelSession": "conversation",
    "ResourceLimits": "conversation",
}

__all__ = [
    "EngineConfig", "GenerationRequest", "GenerationResult", "HotSwapEngine", "LogoMeshError",
    "MemoryStats", "ModelInfo", "ModelStatus", "PoolEvent", "RemoteEndpoint", "RoleExecutor",
    "CollaborativeResponse", "ConversationBus", "LLMMessage", "MultiModelSession",
    "ResourceLimits",
]


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
