"""`logomesh-tui shell`: the DevShell command language in a terminal.

``logomesh-tui shell`` is a line-editing REPL (readline, history in the user data folder, tab
completion of commands, roles and models). ``logomesh-tui shell -c 'COMMAND; COMMAND'`` runs the
commands in order and exits 0 when all worked, 1 with a one-line error on stderr otherwise; a
conversation started by ``-c`` runs to its end before the next command.

The REPL reads lines on the main thread while the engine and conversations live on an asyncio
loop in a background thread, so ``conversation.pause()`` can be typed while models talk.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import threading
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.text import Text

from ..commands import CommandContext, CommandResult, Dispatcher, complete
from ..config import APP_NAME, EngineConfig
from ..conversation.gate import GatedExecutor
from ..errors import LogoMeshError

PROMPT = "DevShell> "
EXIT_WORDS = {"exit", "quit", "exit()", "quit()"}


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("shell", help="the DevShell command language (REPL or -c COMMAND)",
                       description="Type DevShell commands such as "
                                   'llm.registry.load("smollm2-135m", "primary-analyzer"). '
                                   "help() lists them.")
    p.add_argument("-c", dest="shell_command", metavar="COMMAND",
                   help="run COMMAND (several separated by ';') and exit: 0 on success, "
                        "1 on error")
    p.add_argument("--fake", action="store_true",
                   help="scripted fake models instead of GGUF workers (to try the flow)")
    p.add_argument("--metrics", action="store_true", help="show per-turn token timings")
    p.set_defaults(func=cmd_shell)


def history_file() -> Path:
    """Where the REPL keeps its history: the user data folder (``LOGOMESH_HISTORY`` overrides)."""
    import os

    from platformdirs import user_data_dir

    override = os.environ.get("LOGOMESH_HISTORY")
    return Path(override) if override else Path(user_data_dir(APP_NAME)) / "shell_history"


class ShellConversation:
    """The shell's ConversationController: one conversation at a time, timeline printed.

    With ``wait=True`` (``shell -c``) ``start`` returns when the conversation has ended, so
    a following ``conversation.export`` sees the whole session.
    """

    def __init__(self, engine: Any, config: EngineConfig, console: Console, *,
                 wait: bool = False, metrics: bool = False) -> None:
        self.engine = engine
        self.config = config
        self.console = console
        self.wait = wait
        self.metrics = metrics
        self.session_id: str | None = None
        self.session: Any = None
        self.task: asyncio.Task | None = None
        self._gate = asyncio.Event()
        self._gate.set()
        self.paused = False

    @property
    def running(self) -> bool:
        return self.task is not None and not self.task.done()

    async def start(self, prompt: str, protocol: str = "four-round", *,
                    max_rounds: int | None = None, roles: list[str] | None = None,
                    files: list[str] | None = None, arbitration: str | None = None) -> str:
        from ..conversation.session import MultiModelSession, ResourceLimits, read_input_files
        from ..sessions.store import SessionStore
        from ..sessions.timeline import TimelinePrinter

        if self.running:
            raise LogoMeshError("a conversation is already running; conversation.stop() first")
        if arbitration == "ask":
            raise LogoMeshError("arbitration \"ask\" needs the dashboard or `logomesh-tui run "
                                "--arbitration ask`; here use highest-score or first")
        loaded = [m.role for m in self.engine.get_active_models()]
        chosen = roles or loaded
        if not chosen:
            raise LogoMeshError('no models loaded; llm.registry.load("smollm2-135m", '
                                '"primary-analyzer") first')
        missing = [r for r in chosen if r not in loaded]
        if missing:
            raise LogoMeshError(f"roles without a model: {', '.join(missing)}; load them first")
        inputs = read_input_files(files)
        session = MultiModelSession(
            protocol=protocol, limits=ResourceLimits(max_rounds=max_rounds), config=self.config,
            engine=self.engine, store=SessionStore(self.config.sessions_dir),
            arbitration=arbitration or "highest-score", input_files=inputs)
        self._gate.set()
        self.paused = False
        for role in chosen:
            await session.add_model(role, GatedExecutor(self.engine.executor(role), self._gate))
        session.add_listener(TimelinePrinter(self.console, metrics=self.metrics))
        self.session = session
        self.session_id = session.session_id
        self.task = asyncio.ensure_future(self._run(session, prompt))
        if self.wait:
            await asyncio.shield(self.task)
            return f"conversation finished; session {self.session_id}"
        return (f"conversation started ({protocol}, {len(chosen)} roles), session "
                f"{self.session_id}")

    async def _run(self, session: Any, prompt: str) -> Any:
        try:
            response = await session.execute_collaborative_prompt(prompt)
        except asyncio.CancelledError:
            self.console.print(Text(f"conversation stopped; session {session.session_id} kept",
                                    style="yellow"))
            raise
        except LogoMeshError as exc:
            # In the REPL nobody awaits this task: say what happened instead of losing it.
            self.console.print(Text(f"conversation failed: {exc}", style="bold red"))
            if self.wait:
                raise
            return None
        if not session.saving:
            self.console.print(Text(session.save_warning or "not saving", style="bold red"))
        self.console.print(Text(f"final answer: {response.final_answer or '(none)'}",
                                style="bold"))
        return response

    def pause(self) -> str:
        if not self.running or self.paused:
            raise LogoMeshError("no conversation is running" if not self.running
                                else "the conversation is already paused")
        self._gate.clear()
        self.paused = True
        return "paused: turns in flight finish, no new turn starts; conversation.resume()"

    def resume(self) -> str:
        if not self.running or not self.paused:
            raise LogoMeshError("the conversation is not paused")
        self._gate.set()
        self.paused = False
        return "resumed"

    async def stop(self) -> str:
        if not self.running:
            raise LogoMeshError("no conversation is running")
        assert self.task is not None
        self._gate.set()
        self.task.cancel()
        for role in self.session.roles() if self.session is not None else []:
            try:
                await self.engine.executor(role).cancel()
            except LogoMeshError:
                pass  # the role was unloaded meanwhile
        try:
            await self.task
        except (asyncio.CancelledError, Exception):  # noqa: BLE001 - it is being stopped
            pass
        return f"conversation stopped; session {self.session_id} kept"

    def export(self, name: str, format: str) -> str:
        from ..export import export_session

        if not self.session_id:
            raise LogoMeshError("nothing to export yet: conversation.start(...) or "
                                "session.open(\"ID\") first")
        report = export_session(self.session_id, format, name=name,
                                sessions_dir=self.config.sessions_dir, config=self.config)
        return report.summary()

    def open_session(self, session_id: str) -> list[str]:
        from ..sessions.store import SessionStore, summarize

        if self.running:
            raise LogoMeshError("stop the running conversation before opening another session")
        store = SessionStore(self.config.sessions_dir)
        sid = store.resolve_id(session_id)
        result = store.read(sid)
        summary = summarize(sid, store.path_for(sid), result.events)
        self.session_id = sid
        roles = ", ".join(f"{r}={m}" for r, m in summary.roles.items()) or "no roles"
        torn = "; its torn last line was skipped" if result.torn_tail else ""
        return [f"opened session {sid}: {summary.message_count} messages, "
                f"{summary.protocol or 'unknown protocol'}, {roles}{torn}",
                *(d.describe() for d in result.damaged)]


def _model_names(config: EngineConfig):
    def names() -> list[str]:
        from ..catalog import Catalog

        return Catalog.from_config(config).names()
    return names


def _session_names(config: EngineConfig):
    def names() -> list[str]:
        folder = Path(config.sessions_dir)
        return sorted(p.stem for p in folder.glob("*.jsonl")) if folder.is_dir() else []
    return names


def make_engine(config: EngineConfig, fake: bool) -> Any:
    from .run import make_engine as build

    return build(config, fake)


def build_context(engine: Any, config: EngineConfig, console: Console, *, wait: bool,
                  metrics: bool = False) -> CommandContext:
    return CommandContext(
        engine=engine,
        conversation=ShellConversation(engine, config, console, wait=wait, metrics=metrics),
        model_names=_model_names(config), session_names=_session_names(config),
        sessions_dir=config.sessions_dir)


def _print_lines(lines: list[str]) -> None:
    # Plain print: command output is data (tables, paths) that must not be re-wrapped.
    for line in lines:
        print(line, flush=True)


def _print_result(result: CommandResult, console: Console, *, repl: bool) -> None:
    if not result.ok:
        if repl:
            console.print(Text(result.detail or f"error: {result.error}", style="red"),
                          soft_wrap=True)
        else:
            print(f"error: {result.error}", file=sys.stderr)


async def run_commands(text: str, config: EngineConfig, *, fake: bool = False,
                       metrics: bool = False, console: Console | None = None) -> int:
    """``shell -c``: run ``text``; 0 when every command worked, 1 otherwise."""
    console = console or Console(highlight=False)
    engine = make_engine(config, fake)
    try:
        dispatcher = Dispatcher(build_context(engine, config, console, wait=True,
                                              metrics=metrics))
        result = await dispatcher.run(text, on_output=_print_lines)
        _print_result(result, console, repl=False)
        return 0 if result.ok else 1
    finally:
        await engine.close()


class _Loop:
    """An asyncio loop in a daemon thread; the REPL submits coroutines to it."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="devshell-loop",
                                       daemon=True)
        self.thread.start()

    def run(self, coro) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result()

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=5)


def _setup_readline(context: CommandContext) -> Any:
    try:
        import readline
    except ImportError:  # pragma: no cover - Windows without pyreadline
        return None
    path = history_file()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists():
            readline.read_history_file(path)
    except OSError:
        pass
    readline.set_history_length(1000)
    matches: list[str] = []

    def completer(text: str, state: int) -> str | None:
        nonlocal matches
        if state == 0:
            line = readline.get_line_buffer()[:readline.get_endidx()]
            matches = complete(line, context.vocabulary())
        return matches[state] if state < len(matches) else None

    # No word delimiters: the completer sees (and replaces) the whole line up to the cursor.
    readline.set_completer_delims("")
    readline.set_completer(completer)
    readline.parse_and_bind("tab: complete")
    return readline


def _save_history(readline: Any) -> None:
    if readline is None:
        return
    try:
        readline.write_history_file(history_file())
    except OSError:
        pass


def repl(config: EngineConfig, *, fake: bool = False, metrics: bool = False) -> int:
    """The interactive DevShell. Returns 0 on exit/EOF."""
    console = Console(highlight=False)
    loop = _Loop()
    engine = loop.run(_async(make_engine, config, fake))
    context = build_context(engine, config, console, wait=False, metrics=metrics)
    dispatcher = Dispatcher(context)
    readline = _setup_readline(context)
    if sys.stdin.isatty():
        console.print(Text("LogoMesh DevShell. help() lists commands; Tab completes; "
                           "exit or Ctrl-D leaves.", style="dim"))
    try:
        while True:
            try:
                line = input(PROMPT if sys.stdin.isatty() else "")
            except EOFError:
                break
            except KeyboardInterrupt:
                console.print()
                continue
            if line.strip() in EXIT_WORDS:
                break
            if not line.strip():
                continue
            try:
                result = loop.run(dispatcher.run(line, on_output=_print_lines))
            except KeyboardInterrupt:
                console.print(Text("interrupted", style="yellow"))
                continue
            _print_result(result, console, repl=True)
    finally:
        _save_history(readline)
        controller = context.conversation
        if isinstance(controller, ShellConversation) and controller.running:
            loop.run(controller.stop())
        loop.run(engine.close())
        loop.close()
    return 0


async def _async(fn, *args):
    # Built inside the loop thread, so the engine's asyncio objects belong to that loop.
    return fn(*args)


def cmd_shell(args: argparse.Namespace) -> int:
    config = EngineConfig.load()
    if args.shell_command is not None:
        return asyncio.run(run_commands(args.shell_command, config, fake=args.fake,
                                        metrics=args.metrics))
    return repl(config, fake=args.fake, metrics=args.metrics)
