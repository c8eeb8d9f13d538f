"""The conversation bus and the orchestrator: structured multi-model dialogue.

Importing this package does not import Textual or start models.
"""

from .bus import ConversationBus, Subscription
from .consensus import ArbitrationDecision, ConsensusState, ConsensusTracker, arbitration_policy
from .messages import LLMMessage, MessageType, Vote
from .protocols import (
    ConversationProtocol,
    Debate,
    FourRound,
    RoundPlan,
    RoundRobin,
    get_protocol,
    protocol_names,
    register_protocol,
)
from .session import CollaborativeResponse, MultiModelSession, ResourceLimits

__all__ = [
    "ArbitrationDecision", "CollaborativeResponse", "ConsensusState", "ConsensusTracker",
    "ConversationBus", "ConversationProtocol", "Debate", "FourRound", "LLMMessage",
    "MessageType", "MultiModelSession", "ResourceLimits", "RoundPlan", "RoundRobin",
    "Subscription", "Vote", "arbitration_policy", "get_protocol",
    "protocol_names", "register_protocol",
]
