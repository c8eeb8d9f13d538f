"""LogoMesh TUI: several local LLMs in a structured, hot-swappable conversation.

The engine (pool, conversation, sessions, export) is importable without Textual.
"""

from .config import EngineConfig, RemoteEndpoint
from .conversation import (
    CollaborativeResponse,
    ConversationBus,
    LLMMessage,
    MultiModelSession,
    ResourceLimits,
)
from .errors import LogoMeshError
from .evidence import program as _evidence_program  # noqa: F401  registers the evidence rounds
from .pool.engine import HotSwapEngine, RoleExecutor
from .pool.types import (
    GenerationRequest,
    GenerationResult,
    MemoryStats,
    ModelInfo,
    ModelStatus,
    PoolEvent,
)

__all__ = [
    "EngineConfig", "GenerationRequest", "GenerationResult", "HotSwapEngine", "LogoMeshError",
    "MemoryStats", "ModelInfo", "ModelStatus", "PoolEvent", "RemoteEndpoint", "RoleExecutor",
    # conversation bus and orchestrator
    "CollaborativeResponse", "ConversationBus", "LLMMessage", "MultiModelSession",
    "ResourceLimits",
]
