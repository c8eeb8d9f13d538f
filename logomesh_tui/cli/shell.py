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
from ..commands.controller import RunnerController
from ..config import APP_NAME, EngineConfig
from ..conversation.runner import ConversationRunner, RunnerView, RunState, StateChange
from ..sessions.events import Event
from ..sessions.timeline import TimelinePrinter
from .args import command

PROMPT = "DevShell> "
EXIT_WORDS = {"exit", "quit", "exit()", "quit()"}


def register(sub: argparse._SubParsersAction) -> None:
    p = command(sub, "shell", cmd_shell, "the DevShell command language (REPL or -c COMMAND)",
                description="Type DevShell commands such as "
                            'llm.registry.load("smollm2-135m", "primary-analyzer"). '
                            "help() lists them.")
    p.add_argument("-c", dest="shell_command", metavar="COMMAND",
                   help="run COMMAND (several separated by ';') and exit: 0 on success, "
                        "1 on error")
    p.add_argument("--fake", action="store_true",
                   help="scripted fake models instead of GGUF workers (to try the flow)")
    p.add_argument("--metrics", action="store_true", help="show per-turn token timings")


def history_file() -> Path:
    """Where the REPL keeps its history: the user data folder (``LOGOMESH_HISTORY`` overrides)."""
    import os

    from platformdirs import user_data_dir

    override = os.environ.get("LOGOMESH_HISTORY")
    return Path(override) if override else Path(user_data_dir(APP_NAME)) / "shell_history"


class ShellView(RunnerView):
    """What the shell shows of a conversation: the timeline as it is recorded, and how it
    ended (the final answer, a failure, a stop)."""

    def __init__(self, runner: ConversationRunner, console: Console, *,
                 metrics: bool = False) -> None:
        self.runner = runner
        self.console = console
        self.printer = TimelinePrinter(console, metrics=metrics)

    def event(self, event: Event, replayed: bool) -> None:
        if not replayed:
            self.printer(event)

    def state_changed(self, change: StateChange) -> None:
        if change.state == RunState.STOPPED:
            self.console.print(Text(f"conversation stopped; session {change.session_id} kept",
                                    style="yellow"))
        elif change.state == RunState.FAILED:
            # In the REPL nobody awaits the conversation: say what happened instead of losing it.
            self.console.print(Text(f"conversation failed: {change.detail}", style="bold red"))
        elif change.state == RunState.FINISHED:
            session, response = self.runner.session, self.runner.response
            if session is not None and not session.saving:
                self.console.print(Text(session.save_warning or "not saving", style="bold red"))
            answer = response.final_answer if response is not None else ""
            self.console.print(Text(f"final answer: {answer or '(none)'}", style="bold"))


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
    """The shell's command context: a conversation runner with a :class:`ShellView`
    (``wait``: ``conversation.start`` returns when the conversation has ended)."""
    runner = ConversationRunner(engine, config, wait=wait)
    runner.attach(ShellView(runner, console, metrics=metrics))
    return CommandContext(
        engine=engine,
        conversation=RunnerController(runner),
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
        if isinstance(controller, RunnerController) and controller.runner.running:
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
