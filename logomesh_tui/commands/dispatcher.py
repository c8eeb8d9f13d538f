"""Run parsed commands against the model pool and a conversation controller.

The TUI's command pane and ``logomesh-tui shell`` both build a :class:`CommandContext` (the
engine, a :class:`ConversationController`, and where model and session names come from) and
hand text to :meth:`Dispatcher.run`. The result is a :class:`CommandResult` of short text
lines; user mistakes and engine errors become ``ok=False`` with a one-line ``error``, never an
exception.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from ..errors import LogoMeshError
from ..pool.types import MemoryStats, ModelInfo, SwapReport
from ..units import format_bytes
from .completion import complete
from .syntax import CommandSyntaxError, parse_script
from .table import BoundCommand, Vocabulary, bind, help_overview, lookup

log = logging.getLogger(__name__)

Reply = str | Sequence[str] | None
# The ``on_output`` of the run in progress, per task, so long commands can stream progress lines
# while several runs share one Dispatcher.
_on_output: ContextVar[Callable[[list[str]], None] | None] = ContextVar("on_output", default=None)


@runtime_checkable
class ConversationController(Protocol):
    """What runs conversations for a front end. The TUI and the shell each supply one.

    Methods may be plain or ``async``; each returns a line (or lines) to show, or None.
    Raise a :class:`~logomesh_tui.errors.LogoMeshError` for anything the user should fix.
    """

    def start(self, prompt: str, protocol: str = "four-round", *,
              max_rounds: int | None = None, roles: list[str] | None = None,
              files: list[str] | None = None, arbitration: str | None = None) -> Any:
        """Start a collaboration in the background; return e.g. the new session id line."""

    def pause(self) -> Any: ...

    def resume(self) -> Any: ...

    def stop(self) -> Any: ...

    def export(self, name: str, format: str) -> Any:
        """Export the current (or opened) session under the export folder as ``name``."""

    def open_session(self, session_id: str) -> Any:
        """Make a recorded session the current one (for viewing, resuming, exporting)."""


class EngineLike(Protocol):
    """The part of HotSwapEngine the commands use."""

    async def load_model(self, model_id: str, role: str, *, pinned: bool = False,
                         priority: int = 0) -> ModelInfo: ...

    async def unload_model(self, role: str) -> Any: ...

    async def hot_swap(self, role: str, new_model_id: str) -> SwapReport: ...

    def get_active_models(self) -> list[ModelInfo]: ...

    def get_memory_usage(self) -> MemoryStats: ...

    def pin(self, role: str, pinned: bool = True) -> Any: ...

    def roles(self) -> list[str]: ...


Names = Sequence[str] | Callable[[], Sequence[str]] | None


def _names(source: Names) -> list[str] | None:
    if source is None:
        return None
    try:
        return list(source() if callable(source) else source)
    except Exception:  # noqa: BLE001 - a broken name source must not break commands
        log.exception("name source failed")
        return None


@dataclass
class CommandContext:
    """Everything a command may act on. Leave a part ``None`` where a front end lacks it."""

    engine: EngineLike | None = None
    conversation: ConversationController | None = None
    model_names: Names = None
    session_names: Names = None
    # code.refactor writes under this folder; a run is recorded as a session when sessions_dir
    # is given.
    refactor_dir: Path = Path("refactor-out")
    sessions_dir: Path | None = None

    def vocabulary(self) -> Vocabulary:
        roles = None
        if self.engine is not None:
            try:
                roles = list(self.engine.roles())
            except Exception:  # noqa: BLE001 - vocabulary is advisory
                log.exception("engine.roles() failed")
        return Vocabulary(roles=roles, models=_names(self.model_names),
                          sessions=_names(self.session_names))


@dataclass
class CommandResult:
    """The outcome of one line: output lines, and on failure a one-line ``error``.

    ``detail`` is a multi-line form of the error (with a caret under the bad column) for
    front ends that can show it.
    """

    ok: bool
    lines: list[str] = field(default_factory=list)
    error: str | None = None
    detail: str | None = None
    commands: list[str] = field(default_factory=list)


def _lines(reply: Reply) -> list[str]:
    if reply is None:
        return []
    if isinstance(reply, str):
        return reply.splitlines() or [""]
    return [str(x) for x in reply]


async def _call(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    out = fn(*args, **kwargs)
    if inspect.isawaitable(out):
        out = await out
    return out


class Dispatcher:
    """Parse, check and execute command text against a :class:`CommandContext`."""

    def __init__(self, context: CommandContext) -> None:
        self.context = context

    def complete(self, line: str) -> list[str]:
        """Whole-line completions of ``line`` with the roles, models and sessions known now."""
        return complete(line, self.context.vocabulary())

    def check(self, text: str) -> list[BoundCommand]:
        """Parse and bind every command in ``text`` without running anything."""
        vocab = self.context.vocabulary()
        return [bind(cmd, vocab) for cmd in parse_script(text)]

    async def run(self, text: str,
                  on_output: Callable[[list[str]], None] | None = None) -> CommandResult:
        """Run every command in ``text`` in order, stopping at the first failure.

        ``on_output`` (optional) receives each command's lines as soon as it finishes, for
        front ends that show progress through a multi-command line; they are in the result too.
        Long commands (code.refactor) also send their progress lines to it as they happen;
        those are not in the result.
        """
        try:
            commands = parse_script(text)
        except CommandSyntaxError as exc:
            return CommandResult(False, error=str(exc), detail=exc.caret())
        if not commands:
            return CommandResult(True)
        token = _on_output.set(on_output)
        try:
            return await self._run_all(commands, on_output)
        finally:
            _on_output.reset(token)

    async def _run_all(self, commands: list[Any],
                       on_output: Callable[[list[str]], None] | None) -> CommandResult:
        result = CommandResult(True)
        for command in commands:
            result.commands.append(command.name)
            try:
                bound = bind(command, self.context.vocabulary())
                lines = await self.execute(bound)
                result.lines.extend(lines)
                if on_output is not None:
                    on_output(lines)
            except CommandSyntaxError as exc:
                return CommandResult(False, result.lines, str(exc), exc.caret(), result.commands)
            except LogoMeshError as exc:
                return CommandResult(False, result.lines, f"{command.name}: {exc}",
                                     commands=result.commands)
            except Exception as exc:  # noqa: BLE001 - a front end must survive engine bugs
                log.exception("command %s failed", command.name)
                return CommandResult(False, result.lines,
                                     f"{command.name} failed: {type(exc).__name__}: {exc}",
                                     commands=result.commands)
        return result

    async def execute(self, bound: BoundCommand) -> list[str]:
        """Execute one checked command; return its output lines."""
        handler = getattr(self, "_do_" + bound.name.replace(".", "_"))
        return _lines(await handler(bound))

    # -- engine ----------------------------------------------------------------------------

    def _engine(self, bound: BoundCommand) -> EngineLike:
        if self.context.engine is None:
            raise LogoMeshError("no model pool is running here; start the dashboard or "
                                "`logomesh-tui shell` to load models")
        return self.context.engine

    async def _do_llm_registry_load(self, b: BoundCommand) -> Reply:
        info = await self._engine(b).load_model(b["model_id"], b["role"], pinned=b["pinned"],
                                                priority=b["priority"])
        extra = []
        if getattr(info, "load_s", None) is not None:
            extra.append(f"{info.load_s:.1f} s")
        if getattr(info, "rss_bytes", None):
            extra.append(format_bytes(info.rss_bytes))
        tail = f" ({', '.join(extra)})" if extra else ""
        return f"loaded {info.model_id} as {info.role}{tail}"

    async def _do_llm_registry_unload(self, b: BoundCommand) -> Reply:
        await self._engine(b).unload_model(b["role"])
        return f"unloaded {b['role']}"

    async def _do_llm_registry_hotswap(self, b: BoundCommand) -> Reply:
        return (await self._engine(b).hot_swap(b["role"], b["model_id"])).describe()

    async def _do_llm_registry_pin(self, b: BoundCommand) -> Reply:
        await _call(self._engine(b).pin, b["role"], b["pinned"])
        return f"{'pinned' if b['pinned'] else 'unpinned'} {b['role']}"

    async def _do_llm_registry_list(self, b: BoundCommand) -> Reply:
        infos = self._engine(b).get_active_models()
        if not infos:
            return 'no models loaded; try llm.registry.load("smollm2-135m", "primary-analyzer")'
        rows = [("ROLE", "MODEL", "STATUS", "MEMORY", "TOK/S", "LAST", "")]
        for m in infos:
            rows.append((m.role, m.model_id, str(m.status), format_bytes(m.rss_bytes),
                         f"{m.tokens_per_s:.1f}" if m.tokens_per_s else "-",
                         f"{m.last_response_s:.1f}s" if m.last_response_s else "-",
                         ("pinned " if m.pinned else "") + (m.error or "")))
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
        return ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
                for r in rows]

    async def _do_llm_registry_memory(self, b: BoundCommand) -> Reply:
        mem = self._engine(b).get_memory_usage()
        lines = [f"{role}: {format_bytes(n)}" for role, n in mem.per_role.items()]
        lines.append(f"total {format_bytes(mem.total)} of budget {format_bytes(mem.budget)}; "
                     f"system available {format_bytes(mem.system_available)} of "
                     f"{format_bytes(mem.system_total)}")
        return lines

    async def _do_llm_registry_models(self, b: BoundCommand) -> Reply:
        names = _names(self.context.model_names)
        if names is None:
            raise LogoMeshError("no model catalog is available here")
        return names or ["the catalog is empty"]

    # -- conversation ----------------------------------------------------------------------

    def _conversation(self) -> ConversationController:
        if self.context.conversation is None:
            raise LogoMeshError("no conversation controller here; use the dashboard or "
                                "`logomesh-tui shell`")
        return self.context.conversation

    async def _do_conversation_start(self, b: BoundCommand) -> Reply:
        return await _call(self._conversation().start, b["prompt"], b["protocol"],
                           max_rounds=b["max_rounds"], roles=b["roles"], files=b["files"],
                           arbitration=b["arbitration"]) or "conversation started"

    async def _do_conversation_pause(self, b: BoundCommand) -> Reply:
        return await _call(self._conversation().pause) or "conversation paused"

    async def _do_conversation_resume(self, b: BoundCommand) -> Reply:
        return await _call(self._conversation().resume) or "conversation resumed"

    async def _do_conversation_stop(self, b: BoundCommand) -> Reply:
        return await _call(self._conversation().stop) or "conversation stopped"

    async def _do_conversation_export(self, b: BoundCommand) -> Reply:
        out = await _call(self._conversation().export, b["name"], b["format"])
        return out if out is not None else f"exported {b['name']} ({b['format']})"

    async def _do_session_open(self, b: BoundCommand) -> Reply:
        return await _call(self._conversation().open_session, b["session_id"]) or \
            f"opened session {b['session_id']}"

    async def _do_session_fork(self, b: BoundCommand) -> Reply:
        from ..sessions.lineage import fork_session, parse_assignment

        roles = [r for r in b["role"].split(",") if r.strip()]
        fork = getattr(self.context.conversation, "fork", None)
        if fork is not None:
            return await _call(fork, b["session_id"], b["at"], roles, b["protocol"], b["run"])
        store = self._store()
        result = fork_session(store, b["session_id"], b["at"],
                              assignment=parse_assignment(roles), protocol=b["protocol"])
        return f"branch {result.id} of {result.parent} after {result.fork_short_id}"

    async def _do_session_compare(self, b: BoundCommand) -> Reply:
        from ..sessions.compare import compare_sessions

        comparison = compare_sessions(self._store(), b["sessions"])
        lines = [f"from {comparison.fork_short_id}: session, consensus, passed, tokens, wall"]
        for branch in comparison.branches:
            row = branch.row()
            cons = row["consensus"]
            score = "-" if cons["score"] is None else f"{cons['score']:.2f}"
            lines.append(f"{branch.id}  {'yes' if cons['reached'] else 'no'} {score}  "
                         f"{row['artifacts_passed']}/{row['artifacts_verified']}  "
                         f"{row['tokens']}  {row['wall_s']:.1f}s")
        return lines

    def _store(self) -> Any:
        from ..sessions.store import SessionStore

        return SessionStore(self.context.sessions_dir)

    # -- code ------------------------------------------------------------------------------

    async def _do_code_refactor(self, b: BoundCommand) -> Reply:
        from .refactor import check_inputs, output_dir, refactor

        out_dir = output_dir(b["path"], b["output"], self.context.refactor_dir)
        check_inputs(self.context.engine, b["path"])
        stream = _on_output.get()
        return await refactor(self.context.engine, b["path"], out_dir,
                              on_progress=(lambda line: stream([line])) if stream else None,
                              sessions_dir=self.context.sessions_dir, apply=b["apply"])

    # -- help ------------------------------------------------------------------------------

    async def _do_help(self, b: BoundCommand) -> Reply:
        if b["command"] is None:
            return help_overview()
        from .syntax import Command

        return lookup(Command(tuple(b["command"].split(".")))).help_text()
