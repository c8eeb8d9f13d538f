"""The DevShell command language: parse safely, check against the pool, dispatch.

One parser serves the dashboard's command pane, ``logomesh-tui shell`` and ``shell -c``::

    from logomesh_tui.commands import CommandContext, Dispatcher
    result = await Dispatcher(CommandContext(engine=engine)).run(
        'llm.registry.load("smollm2-135m", "primary-analyzer")')
"""

from .completion import complete, signature_hint
from .dispatcher import (
    CommandContext,
    CommandResult,
    ConversationController,
    Dispatcher,
    EngineLike,
)
from .syntax import Command, CommandSyntaxError, parse_command, parse_script, tokenize
from .table import (
    COMMANDS,
    EXPORT_FORMATS,
    PROTOCOLS,
    BoundCommand,
    CommandSpec,
    Param,
    Vocabulary,
    bind,
    command_names,
    help_overview,
)

__all__ = [
    "COMMANDS", "EXPORT_FORMATS", "PROTOCOLS", "BoundCommand", "Command", "CommandContext",
    "CommandResult", "CommandSpec", "CommandSyntaxError", "ConversationController",
    "Dispatcher", "EngineLike", "Param", "Vocabulary", "bind", "command_names", "complete",
    "help_overview", "parse_command", "parse_script", "signature_hint", "tokenize",
]
