"""The command table: every DevShell command, its signature, its help, and argument binding.

Binding turns a parsed :class:`~.syntax.Command` into a :class:`BoundCommand` whose arguments
have been matched to named parameters and checked for type and, when a :class:`Vocabulary`
is given, against the roles and models that exist right now. Every failure is a
:class:`~.syntax.CommandSyntaxError` that points at the argument and lists what is valid.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from ..conversation.consensus import ARBITRATION_POLICIES as ARBITRATION_POLICY_REGISTRY
from ..conversation.protocols import protocol_names
from ..export.formats import FORMATS
from .syntax import Command, CommandSyntaxError

ArgType = Literal["str", "int", "float", "bool", "list[str]"]
# What a string parameter names, so binding and completion know which vocabulary applies.
# "new-role" is a role name that need not exist yet (llm.registry.load creates it).
ArgKind = Literal["text", "role", "new-role", "model", "protocol", "format", "session",
                  "command", "policy", "ts-path"]

# One registry per idea, owned by the part that implements it; completion imports these too.
PROTOCOLS = tuple(protocol_names())
EXPORT_FORMATS = FORMATS
ARBITRATION_POLICIES = tuple(ARBITRATION_POLICY_REGISTRY)
ROLE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


@dataclass(frozen=True)
class Param:
    """One parameter of a command."""

    name: str
    type: ArgType = "str"
    kind: ArgKind = "text"
    required: bool = True
    default: Any = None
    help: str = ""
    minimum: float | None = None

    def signature(self) -> str:
        if self.required:
            return f"{self.name}: {self.type}"
        return f"{self.name}: {self.type} = {_show(self.default)}"


@dataclass(frozen=True)
class CommandSpec:
    """A command the language knows: dotted name, parameters, one-line summary, longer help."""

    name: str
    params: tuple[Param, ...]
    summary: str
    example: str = ""  # a call to show; by default the signature (a command without parameters)

    def __post_init__(self) -> None:
        if not self.example:
            object.__setattr__(self, "example", self.signature())

    @property
    def target(self) -> tuple[str, ...]:
        return tuple(self.name.split("."))

    def signature(self) -> str:
        return f"{self.name}({', '.join(p.signature() for p in self.params)})"

    def help_text(self) -> str:
        lines = [self.signature(), f"  {self.summary}"]
        for p in self.params:
            if p.help:
                lines.append(f"  {p.name}: {p.help}")
        lines.append(f"  e.g. {self.example}")
        return "\n".join(lines)


@dataclass
class Vocabulary:
    """Names that exist now, used to check arguments and to offer completions.

    Leave a field ``None`` when it is unknown; then anything well-formed is accepted.
    ``models`` may also be satisfied by ``remote:<name>`` ids and paths ending in ``.gguf``,
    which the engine's catalog resolves itself.
    """

    roles: Sequence[str] | None = None
    models: Sequence[str] | None = None
    sessions: Sequence[str] | None = None


@dataclass
class BoundCommand:
    """A command matched to its spec, with every parameter filled in (defaults included)."""

    spec: CommandSpec
    values: dict[str, Any]
    command: Command = field(repr=False)

    @property
    def name(self) -> str:
        return self.spec.name

    def __getitem__(self, key: str) -> Any:
        return self.values[key]


def _show(value: Any) -> str:
    return f'"{value}"' if isinstance(value, str) else repr(value)


_ROLE = Param("role", kind="role", help="a loaded role, e.g. \"primary-analyzer\"")
_MODEL = Param("model_id", kind="model",
               help="a catalog name (see llm.registry.models()), remote:<name>, or a .gguf path")

COMMANDS: tuple[CommandSpec, ...] = (
    CommandSpec("llm.registry.load", (
        _MODEL,
        Param("role", kind="new-role", help="the role the model takes, e.g. \"primary-analyzer\""),
        Param("pinned", "bool", required=False, default=False,
              help="a pinned role is never evicted to make room"),
        Param("priority", "int", required=False, default=0,
              help="higher priority roles are evicted last"),
    ), "Load a model into the pool under a role.",
        'llm.registry.load("qwen2.5-coder-1.5b", "primary-analyzer")'),
    CommandSpec("llm.registry.unload", (_ROLE,), "Unload the model serving a role.",
                'llm.registry.unload("documentation-writer")'),
    CommandSpec("llm.registry.hotswap", (
        _ROLE, Param("model_id", kind="model", help="the model that takes over the role"),
    ), "Replace the model behind a role; a conversation in progress keeps going.",
        'llm.registry.hotswap("documentation-writer", "smollm2-135m")'),
    CommandSpec("llm.registry.pin", (
        _ROLE, Param("pinned", "bool", required=False, default=True,
                     help="false unpins"),
    ), "Pin a role so memory pressure never evicts it (pin(role, false) unpins).",
        'llm.registry.pin("primary-analyzer")'),
    CommandSpec("llm.registry.list", (), "List loaded roles: model, status, memory, speed."),
    CommandSpec("llm.registry.memory", (), "Show memory used per role against the budget."),
    CommandSpec("llm.registry.models", (), "List the model names the catalog knows."),
    CommandSpec("conversation.start", (
        Param("prompt", help="the task for the models"),
        Param("protocol", kind="protocol", required=False, default="four-round",
              help=f"one of {', '.join(PROTOCOLS)}"),
        Param("max_rounds", "int", required=False, default=None, minimum=1,
              help="stop after this many rounds (default: the protocol's own)"),
        Param("roles", "list[str]", kind="role", required=False, default=None,
              help="roles that take part (default: every loaded role)"),
        Param("files", "list[str]", required=False, default=None,
              help="files whose text is attached to the prompt"),
        Param("arbitration", kind="policy", required=False, default=None,
              help=f"when no consensus: one of {', '.join(ARBITRATION_POLICIES)}"),
    ), "Start a collaboration among the loaded roles.",
        'conversation.start("Analyse this component", protocol="four-round")'),
    CommandSpec("conversation.pause", (), "Pause after the turns in flight finish."),
    CommandSpec("conversation.resume", (), "Resume a paused conversation."),
    CommandSpec("conversation.stop", (), "Stop the conversation; the session file keeps it."),
    CommandSpec("conversation.export", (
        Param("name", help="export folder name: letters, digits, '.', '_', '-'"),
        Param("format", kind="format", required=False, default="training-data",
              help=f"one of {', '.join(EXPORT_FORMATS)}"),
    ), "Export the current session as a dataset in the export folder.",
        'conversation.export("multi-model-refactor-session", format="training-data")'),
    CommandSpec("code.refactor", (
        Param("path", kind="ts-path", help="a .ts/.tsx file or a folder of them"),
        Param("output", required=False, default=None,
              help="output folder under refactor-out/ (default: named after the file)"),
        Param("apply", "bool", required=False, default=False,
              help="also write kept changes into the files, only when git holds them "
                   "committed and unchanged (the output's revert.patch undoes it)"),
    ), "Refactor TypeScript with the loaded roles; tsc verifies; writes report.md.",
        'code.refactor("examples/Dashboard.tsx", output="refactor-out/dashboard")'),
    CommandSpec("session.open", (Param("session_id", kind="session",
                                       help="an id that `logomesh-tui sessions list` shows"),),
                "Open a recorded session (to view, resume or export it).",
                'session.open("20250101-120000-ab12")'),
    CommandSpec("session.fork", (
        Param("session_id", kind="session", help="the recorded session to branch"),
        Param("at", help="the last shared message: its id or short id (\"m3\")"),
        Param("role", required=False, default="",
              help="ROLE=MODEL, several separated by commas: what the branch changes"),
        Param("protocol", kind="protocol", required=False, default=None,
              help=f"another protocol: one of {', '.join(PROTOCOLS)}"),
        Param("run", "bool", required=False, default=True,
              help="run the branch at once (false: only record it)"),
    ), "Branch a recorded session after a message, with another model for a role.",
        'session.fork("20250101-120000-ab12", at="m3", '
        'role="architecture-critic=qwen2.5-coder-0.5b")'),
    CommandSpec("session.compare", (
        Param("sessions", "list[str]", kind="session",
              help="two or more sessions that share a fork point"),
    ), "Compare branches from their fork point: consensus, passing code, tokens, time.",
        'session.compare(["20250101-120000-ab12", "20250101-130000-cd34"])'),
    CommandSpec("help", (Param("command", kind="command", required=False, default=None,
                               help="a command name for its details"),),
                "List commands, or show one command's details.",
                'help("llm.registry.hotswap")'),
)

COMMANDS_BY_NAME: dict[str, CommandSpec] = {spec.name: spec for spec in COMMANDS}


def command_names() -> list[str]:
    return [spec.name for spec in COMMANDS]


def lookup(command: Command) -> CommandSpec:
    """The spec for ``command``'s path, or an error that suggests the closest names."""
    spec = COMMANDS_BY_NAME.get(command.name)
    if spec is not None:
        return spec
    prefix = command.name + "."
    under = [n for n in COMMANDS_BY_NAME if n.startswith(prefix)]
    if under:
        raise command.error_at(None, f"{command.name} is a group, not a command; "
                                     f"its commands: {', '.join(under)}")
    close = difflib.get_close_matches(command.name, COMMANDS_BY_NAME, n=3, cutoff=0.6)
    hint = f"did you mean {' or '.join(close)}? " if close else ""
    raise command.error_at(None, f"unknown command {command.name!r}; {hint}"
                                 f"known: {', '.join(COMMANDS_BY_NAME)}")


def _type_ok(value: Any, type_: ArgType) -> bool:
    if type_ == "str":
        return isinstance(value, str)
    if type_ == "bool":
        return isinstance(value, bool)
    if type_ == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if type_ == "float":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _type_name(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "a bool"
    if isinstance(value, list):
        return "a list" if all(isinstance(v, str) for v in value) else "a list with non-text items"
    return {"str": "text", "int": "an int", "float": "a float"}.get(type(value).__name__,
                                                                      type(value).__name__)


def _choices(options: Sequence[str], limit: int = 12) -> str:
    if not options:
        return "none"
    shown = ", ".join(options[:limit])
    return shown + (f" (+{len(options) - limit} more)" if len(options) > limit else "")


def _is_model_like(value: str) -> bool:
    return value.startswith("remote:") or value.endswith(".gguf")


def _check_name(spec: CommandSpec, p: Param, value: str, where: str,
                command: Command, vocab: Vocabulary | None) -> None:
    """Check one string that names a role, model, protocol, format or command."""

    def fail(message: str) -> CommandSyntaxError:
        return command.error_at(where, f"{spec.name}: {message}")

    if p.kind == "protocol" and value not in PROTOCOLS:
        raise fail(f"unknown protocol {value!r}; valid: {', '.join(PROTOCOLS)}")
    if p.kind == "format" and value not in EXPORT_FORMATS:
        raise fail(f"unknown format {value!r}; valid: {', '.join(EXPORT_FORMATS)}")
    if p.kind == "policy" and value not in ARBITRATION_POLICIES:
        raise fail(f"unknown arbitration policy {value!r}; valid: "
                   f"{', '.join(ARBITRATION_POLICIES)}")
    if p.kind == "command" and value not in COMMANDS_BY_NAME:
        close = difflib.get_close_matches(value, COMMANDS_BY_NAME, n=3, cutoff=0.6)
        hint = f"did you mean {' or '.join(close)}? " if close else ""
        raise fail(f"no command {value!r}; {hint}known: {', '.join(COMMANDS_BY_NAME)}")
    if p.kind in ("role", "new-role") and not ROLE_NAME.match(value):
        raise fail(f"{value!r} is not a valid role name; use letters, digits, '.', '_', '-' "
                   f"(up to 64), e.g. \"primary-analyzer\"")
    if vocab is None:
        return
    roles = list(vocab.roles) if vocab.roles is not None else None
    models = list(vocab.models) if vocab.models is not None else None
    if p.kind == "role" and roles is not None and value not in roles:
        if models is not None and value in models:
            raise fail(f"{value!r} is a model, not a role; this command takes "
                       f"{spec.signature()}; loaded roles: {_choices(roles)}")
        raise fail(f"no role {value!r} is loaded; loaded roles: {_choices(roles)}")
    if p.kind == "new-role" and models is not None and value in models and (
            roles is None or value not in roles):
        raise fail(f"{value!r} is a model name, not a role; arguments are "
                   f"{spec.signature()}")
    if (p.kind == "model" and models is not None and value not in models
            and not _is_model_like(value)):
        if roles is not None and value in roles:
            raise fail(f"{value!r} is a role, not a model; this command takes "
                       f"{spec.signature()}")
        close = difflib.get_close_matches(value, models, n=2, cutoff=0.6)
        hint = f"did you mean {' or '.join(close)}? " if close else ""
        raise fail(f"unknown model {value!r}; {hint}known: {_choices(models)}")
    if p.kind == "session" and vocab.sessions is not None and not any(
            s.startswith(value) for s in vocab.sessions):  # a unique prefix is enough, as in git
        raise fail(f"no session {value!r}; recorded sessions: {_choices(list(vocab.sessions))}")


def bind(command: Command, vocab: Vocabulary | None = None) -> BoundCommand:
    """Match ``command``'s arguments to its spec's parameters and check them.

    Raises CommandSyntaxError naming the command, the argument and what is valid.
    """
    spec = lookup(command)
    params = spec.params
    if len(command.args) > len(params):
        extra = f"#{len(params)}"
        raise command.error_at(extra, f"{spec.name} takes at most {len(params)} argument"
                                      f"{'s' if len(params) != 1 else ''}, got "
                                      f"{len(command.args)}; usage: {spec.signature()}")
    values: dict[str, Any] = {}
    where: dict[str, str] = {}
    for i, value in enumerate(command.args):
        values[params[i].name] = value
        where[params[i].name] = f"#{i}"
    names = {p.name for p in params}
    for key, value in command.kwargs.items():
        if key not in names:
            valid = ", ".join(p.name for p in params) or "none"
            raise command.error_at(key, f"{spec.name} has no parameter {key!r}; "
                                        f"parameters: {valid}")
        if key in values:
            raise command.error_at(key, f"{spec.name}: {key!r} given both by position and "
                                        f"by keyword")
        values[key] = value
        where[key] = key
    for p in params:
        if p.name not in values:
            if p.required:
                raise command.error_at(None, f"{spec.name} needs {p.name!r} ({p.type}); "
                                             f"usage: {spec.signature()}")
            values[p.name] = p.default
            continue
        value = values[p.name]
        if value is None and not p.required and p.default is None:
            continue
        if not _type_ok(value, p.type):
            raise command.error_at(where[p.name], f"{spec.name}: {p.name!r} must be {p.type}, "
                                                  f"got {_type_name(value)}; usage: "
                                                  f"{spec.signature()}")
        if p.type == "float" and isinstance(value, int):
            values[p.name] = float(value)
        if p.minimum is not None and value < p.minimum:
            raise command.error_at(where[p.name], f"{spec.name}: {p.name!r} must be at least "
                                                  f"{p.minimum:g}, got {value}")
        if p.type == "str" and p.kind != "text" and not value.strip():
            raise command.error_at(where[p.name], f"{spec.name}: {p.name!r} is empty")
        items = value if isinstance(value, list) else [value]
        if p.kind != "text":
            for item in items:
                _check_name(spec, p, item, where[p.name], command, vocab)
    return BoundCommand(spec, values, command)


def help_overview() -> list[str]:
    """One line per command: signature and summary, grouped as in the table."""
    width = max(len(spec.name) for spec in COMMANDS) + 2
    lines = [f"{spec.name + '()':<{width}}  {spec.summary}" for spec in COMMANDS]
    lines.append('help("command") shows a command\'s arguments.')
    return lines
