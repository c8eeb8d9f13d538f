"""The dashboard's dialog flows: what a key or a palette entry asks before it runs a command.

Each flow pushes pickers and prompts (``tui.screens``) and ends in one command of the command
language, run through the app's one route (``LogoMeshApp.dispatch``). The app binds the keys
and delegates to these.
"""

from .conversation import ConversationFlows
from .fork import ForkFlows
from .models import PULL_PREFIX, ModelFlows

__all__ = ["PULL_PREFIX", "ConversationFlows", "ForkFlows", "ModelFlows"]
