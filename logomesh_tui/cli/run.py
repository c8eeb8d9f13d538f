"""`logomesh-tui run SCENARIO.toml`: a whole collaboration without the dashboard.

The timeline streams to the terminal as events are recorded; the session file is written as it
goes, so an interrupted run can be continued with ``logomesh-tui resume ID``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.panel import Panel
from rich.text import Text

from ..config import EngineConfig
from ..conversation.consensus import ARBITRATION_POLICIES, arbitration_policy
from ..conversation.protocols import protocol_names
from ..conversation.runner import ConversationRunner, RunnerView, TurnReport
from ..errors import EXIT_FAILED, EXIT_OK, LogoMeshError, UsageError
from ..pool.fake import FakeBackend
from ..pool.types import GenerationRequest
from ..sessions.events import Event
from ..sessions.timeline import TimelinePrinter


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("run", help="run a scenario headless, streaming the timeline",
                       description="Run the collaboration a scenario TOML file describes.")
    p.add_argument("scenario", metavar="SCENARIO.toml", help="scenario file")
    add_run_options(p)
    p.add_argument("--protocol", choices=protocol_names(), help="override the scenario's")
    p.add_argument("--path", action="append", default=[], metavar="DIR",
                   help="a folder (or file) the conversation works on, beside the scenario's "
                        "input files: its TypeScript sources, what they import and the tests "
                        "that cover them (repeatable)")
    p.add_argument("--grid", action="append", metavar="ROLE=M1,M2", default=[],
                   help="run once per combination of these models (repeatable): every run a "
                        "branch of one root from the start, then a comparison and a chart")
    p.add_argument("--chart", metavar="PATH",
                   help="with --grid: where to write the SVG chart (default: "
                        "SESSIONS_DIR/grid-ROOT.svg)")
    p.set_defaults(func=cmd_run)


def add_run_options(p: argparse.ArgumentParser) -> None:
    """Options shared by ``run`` and ``resume``."""
    p.add_argument("--arbitration", choices=list(ARBITRATION_POLICIES), default=None,
                   help="who decides without consensus: highest-score, first, or ask "
                        "(a prompt on this terminal)")
    p.add_argument("--max-rounds", type=int, default=None, metavar="N",
                   help="round limit (default: the scenario's, else the protocol's)")
    p.add_argument("--metrics", action="store_true", help="show per-turn token timings")
    p.add_argument("--fake", action="store_true",
                   help="scripted fake models instead of GGUF workers (to try the flow)")
    p.add_argument("--json", action="store_true",
                   help="print the final CollaborativeResponse as one JSON document on stdout "
                        "(the timeline and progress go to stderr)")


def demo_responder(request: GenerationRequest, backend: FakeBackend) -> str:
    """Schema-valid, varied replies for ``--fake`` runs: cites the newest id, votes first."""
    if request.json_schema is None:
        return f"{backend.model_id}: summary of the discussion so far."
    props = request.json_schema.get("properties", {})
    types = props.get("message_type", {}).get("enum", ["analysis"])
    refs = props.get("references", {}).get("items", {}).get("enum", [])
    n = backend.calls
    reply: dict[str, Any] = {
        "message_type": types[0],
        "content": f"({backend.model_id}, turn {n}) {types[0]}: "
                   + ["memoise the derived rows", "split the effect into a custom hook",
                      "profile before refactoring", "document each change"][n % 4],
        "references": refs[-1:],
        "confidence": round(0.55 + 0.1 * (n % 4), 2),
    }
    if "vote" in props:
        reply["vote"] = props["vote"]["enum"][0]
    return json.dumps(reply)


def fake_factory(model_id: str, config: EngineConfig) -> FakeBackend:
    return FakeBackend(model_id, n_ctx=config.n_ctx, responder=demo_responder,
                       token_delay_s=0.002)


def make_engine(config: EngineConfig, fake: bool) -> Any:
    try:
        from ..pool.engine import HotSwapEngine
    except ImportError as exc:  # pragma: no cover - only before the pool exists
        raise LogoMeshError(f"the model engine is not available: {exc}") from exc
    return HotSwapEngine(config, backend_factory=fake_factory if fake else None)


async def load_roles(engine: Any, roles: dict[str, str], console: Console) -> None:
    """Load every role's model, one after another (parallel loads would fight for 2 cores)."""
    for role, model in roles.items():
        with console.status(f"loading {model} as {role} ..."):
            info = await engine.load_model(model, role)
        load = f" in {info.load_s:.1f} s" if getattr(info, "load_s", None) else ""
        console.print(Text(f"loaded {model} as {role}{load}", style="dim"))


class ProgressView(RunnerView):
    """A status line under the timeline: who is generating, how far along."""

    def __init__(self, status: Any) -> None:
        self.status = status
        self.counts: dict[str, int] = {}

    def _refresh(self) -> None:
        busy = ", ".join(f"{role} ({n} tokens)" for role, n in self.counts.items())
        self.status.update(f"generating: {busy}" if busy else "between turns ...")

    def token(self, turn_id: str, role: str, text: str) -> None:
        self.counts[role] = self.counts.get(role, 0) + 1
        self._refresh()

    def turn(self, report: TurnReport) -> None:
        if report.phase != "started":
            self.counts.pop(report.role, None)
            self._refresh()


class PrinterView(RunnerView):
    """The timeline as it is recorded, and a one-time warning when the file stops saving."""

    def __init__(self, runner: ConversationRunner, console: Console, *, metrics: bool) -> None:
        self.runner = runner
        self.console = console
        self.printer = TimelinePrinter(console, metrics=metrics)
        self.warned = False

    def event(self, event: Event, replayed: bool) -> None:
        self.printer(event)
        session = self.runner.session
        if not self.warned and session is not None and not session.saving:
            self.warned = True
            self.console.print(Text(session.save_warning or "not saving", style="bold red"))


@contextlib.contextmanager
def progress_line(runner: ConversationRunner, session: Any, console: Console) -> Iterator[None]:
    """On a terminal, a status line under the timeline while ``session`` runs."""
    if not console.is_terminal or session.arbitration_name == "ask":
        # The "ask" policy reads from this terminal; a live status line would overwrite it.
        yield
        return
    status = console.status("waiting for the first turn ...")
    view = runner.attach(ProgressView(status))
    with status:
        try:
            yield
        finally:
            runner.detach(view)


def headless_runner(engine: Any, config: EngineConfig, console: Console, *,
                    metrics: bool) -> ConversationRunner:
    """The runner ``run`` and ``resume`` use: a terminal prompt for "ask", the timeline
    printed as it is recorded."""
    runner = ConversationRunner(engine, config, ask=arbitration_policy("ask"))
    runner.attach(PrinterView(runner, console, metrics=metrics))
    return runner


def print_outcome(console: Console, response: Any, store_dir: Path, as_json: bool) -> None:
    if as_json:
        print(response.model_dump_json(by_alias=True, exclude={"messages": {"__all__": {
            "prompt_messages"}}, "contributions": True}, indent=2))
        return
    title = "final answer" + (" (arbitrated)" if response.arbitration else "")
    console.print(Panel(Text(response.final_answer or "(no usable reply)"), title=title))
    if not response.saving:
        console.print(Text(response.save_warning or "not saving", style="bold red"))
    else:
        console.print(Text(f"session saved: {store_dir / (response.session_id + '.jsonl')}  "
                           f"(logomesh-tui sessions show {response.session_id})", style="dim"))


def outcome_code(response: Any) -> int:
    """EXIT_FAILED when the run produced no usable answer (every turn failed)."""
    return EXIT_OK if response.final_answer else EXIT_FAILED


def cmd_run(args: argparse.Namespace) -> int:
    from ..scenario import Scenario

    scenario = Scenario.load(args.scenario)
    if args.protocol:
        scenario.protocol = args.protocol
    inputs = scenario.read_inputs()
    if args.path:
        from ..conversation.session import read_inputs

        extra, outline = read_inputs(args.path)
        inputs.update(extra)
        if outline:
            scenario.prompt = f"{scenario.prompt.rstrip()}\n\n{outline}"
    limits = scenario.resource_limits(max_rounds=args.max_rounds)
    # The pool's own per-turn watchdog must not fire before the scenario's turn timeout.
    config = EngineConfig.load(n_ctx=scenario.limits.n_ctx,
                               turn_timeout_s=scenario.limits.turn_timeout_s)
    # With --json, stdout carries only the JSON document: the timeline goes to stderr.
    console = Console(stderr=args.json)
    if args.grid:
        from .grid import plan_grid, run_grid

        assignments = plan_grid(args.grid, scenario, config)
        return asyncio.run(run_grid(scenario, inputs, limits, config, args, console,
                                    assignments))
    if args.chart:
        raise UsageError("--chart goes with --grid")
    return asyncio.run(_run(scenario, inputs, limits, config, args, console))


async def prepare_scenario(runner: ConversationRunner, scenario: Any, limits: Any,
                           arbitration: str | None, inputs: dict[str, str]) -> Any:
    """A new session of the scenario's roles (loaded already), protocol, weights and
    instructions."""
    return await runner.prepare(
        list(scenario.roles), protocol=scenario.protocol, limits=limits,
        arbitration=arbitration or scenario.arbitration,
        role_weights={r: s.weight for r, s in scenario.roles.items()},
        role_instructions={r: s.instructions for r, s in scenario.roles.items()
                           if s.instructions},
        input_files=inputs)


async def _run(scenario: Any, inputs: dict[str, str], limits: Any, config: EngineConfig,
               args: argparse.Namespace, console: Console) -> int:
    engine = make_engine(config, args.fake)
    try:
        await load_roles(engine, {r: s.model for r, s in scenario.roles.items()}, console)
        runner = headless_runner(engine, config, console, metrics=args.metrics)
        session = await prepare_scenario(runner, scenario, limits, args.arbitration, inputs)
        try:
            with progress_line(runner, session, console):
                response = await runner.run(session, scenario.prompt)
        except (asyncio.CancelledError, KeyboardInterrupt):
            console.print(Text(f"interrupted; continue with: logomesh-tui resume "
                               f"{session.session_id}", style="yellow"))
            raise
        print_outcome(console, response, Path(config.sessions_dir), args.json)
        return outcome_code(response)
    finally:
        await engine.close()
