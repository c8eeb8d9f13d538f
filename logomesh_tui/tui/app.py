"""The LogoMesh dashboard: model registry, conversation timeline, metrics and the DevShell.

The app is one client of the engine. It is handed a HotSwapEngine (tests hand it one whose
backend_factory builds FakeBackends) and runs conversations with the engine's
ConversationRunner, whose state it reads and whose events reach the panes through a
DashboardView; every model operation runs in a worker and reports back with a message, so keys
answer at once while models load and generate.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import ModalScreen
from textual.widgets import Footer

from ..commands import (
    Command,
    CommandContext,
    Dispatcher,
    complete,
    signature_hint,
)
from ..commands.controller import RunnerController
from ..commands.table import Vocabulary
from ..config import EngineConfig
from ..conversation.roles import SEED_ROLES
from ..conversation.runner import ConversationRunner
from ..errors import ConfigError
from ..evidence.program import register_evidence_program
from ..pool.types import PoolEvent
from ..sessions.events import ConsensusScored, MessagePosted, Note, Swap, TurnFailed, TurnMetrics
from ..sessions.store import SessionStore
from .command_route import CommandRoute
from .first_run import offer_roles
from .flows import ConversationFlows, ForkFlows, ModelFlows
from .messages import (
    CommandFinished,
    CommandProgress,
    ConversationEvent,
    ConversationMessage,
    ConversationState,
    PoolChanged,
    PullProgress,
    TimelineReset,
    TokenStreamed,
    TurnAborted,
    TurnFinished,
    TurnStarted,
)
from .palette import PaletteActions
from .registry_rows import RegistryRows
from .runner_view import DashboardView, ask_in_dialog
from .screens.help import HelpScreen
from .stats import MetricsStore
from .theme import ThemeMemory
from .widgets.command import CommandInput, CommandPane
from .widgets.metrics import MetricsPane
from .widgets.registry import RegistryPane
from .widgets.timeline import TimelinePane


def binding_ids() -> set[str]:
    """Every binding id of the dashboard and its screens and widgets (what [keymap] may name)."""
    from textual.dom import DOMNode

    ids: set[str] = set()
    todo: list[type] = [DOMNode]
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        if cls.__module__.startswith(__package__ or "logomesh_tui.tui"):
            ids.update(b.id for b in cls.__dict__.get("BINDINGS", [])
                       if isinstance(b, Binding) and b.id)
    return ids


def validate_keymap(keymap: dict[str, str]) -> None:
    """Refuse a [keymap] entry whose binding id does not exist, with one line naming it."""
    known = binding_ids()
    unknown = [k for k in keymap if k not in known]
    if unknown:
        raise ConfigError(f"[keymap]: unknown key id {unknown[0]!r}; valid ids: "
                          f"{', '.join(sorted(known))}")


def stylesheet_path() -> Path:
    """``styles/app.tcss``: at the repository root in a checkout or an editable install (how the
    README installs), or under ``<prefix>/share/logomesh-tui/`` where a wheel puts it."""
    import sys

    repo = Path(__file__).resolve().parents[2] / "styles" / "app.tcss"
    shared = Path(sys.prefix) / "share" / "logomesh-tui" / "styles" / "app.tcss"
    return repo if repo.exists() or not shared.exists() else shared


class LogoMeshApp(App[int]):
    """The dashboard. ``engine`` is a HotSwapEngine (or anything with its public API)."""

    TITLE = "LogoMesh"
    CSS_PATH = stylesheet_path() if stylesheet_path().exists() else None
    COMMANDS = App.COMMANDS | {PaletteActions}
    COMMAND_PALETTE_BINDING = "ctrl+p"

    BINDINGS = [
        Binding("f1", "help", "Help", id="help"),
        Binding("f2,l", "load", "Load", id="load"),
        Binding("f3,u", "unload", "Unload", id="unload"),
        Binding("f4,s", "swap", "Swap", id="swap"),
        Binding("f5,r", "start", "Start", id="start"),
        Binding("f6,space", "pause", "Pause", id="pause"),
        Binding("f7,x", "stop", "Stop", id="stop"),
        Binding("f8,p", "pin", "Pin", id="pin"),
        Binding("f9,e", "export", "Export", id="export"),
        Binding("f10,o", "open_session", "Open", id="open_session"),
        Binding("k", "fork", "Fork at message", id="fork", show=False),
        Binding("c", "compare", "Compare branches", id="compare", show=False),
        Binding("ctrl+r", "refactor", "Refactor code", id="refactor", show=False),
        Binding("colon,ctrl+g", "focus_command", "Command", id="focus_command", show=False),
        Binding("ctrl+t", "toggle_theme", "Theme", id="toggle_theme", show=False),
        Binding("ctrl+q", "quit", "Quit", id="quit", priority=True),
    ]

    def __init__(self, engine: Any, config: EngineConfig | None = None, *,
                 catalog: Any | None = None,
                 offer_pull: bool = True, offer_roles: bool | None = None,
                 refresh_s: float = 1.0) -> None:
        super().__init__()
        register_evidence_program()  # the dashboard can run the evidence protocol
        self.engine = engine
        self.config = config or getattr(engine, "config", None) or EngineConfig()
        validate_keymap(self.config.keymap)
        self.catalog = (catalog if catalog is not None
                        else getattr(engine, "catalog", None) or self._default_catalog())
        self.runner = ConversationRunner(
            engine, self.config, ask=lambda state, reason: ask_in_dialog(self, state, reason),
            spawn=lambda coro: self.run_worker(coro, group="conversation", exclusive=True,
                                               exit_on_error=False, name="conversation"))
        self.runner.attach(DashboardView(self))
        self.controller = RunnerController(self.runner)
        self.metrics = MetricsStore()
        self.dispatcher = Dispatcher(CommandContext(
            engine=engine, conversation=self.controller, model_names=self.model_names,
            session_names=self.session_names, sessions_dir=self.config.sessions_dir))
        self.offer_pull = offer_pull
        # The welcome dialog (load the [roles], run the example); follows offer_pull unless given.
        self.offer_roles = offer_pull if offer_roles is None else offer_roles
        self.refresh_s = refresh_s
        self._help: HelpScreen | None = None
        self.registry_rows = RegistryRows()
        self._listener: Callable[[PoolEvent], None] | None = None
        self.model_flows = ModelFlows(self)
        self.conversation_flows = ConversationFlows(self)
        self.fork_flows = ForkFlows(self)
        self.command_route = CommandRoute(self)
        self.theme_memory = ThemeMemory(self)

    def _default_catalog(self) -> Any | None:
        try:
            from ..catalog import Catalog

            return Catalog.from_config(self.config)
        except Exception:  # noqa: BLE001 - the dashboard works without a catalog
            return None

    # -- layout ----------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield RegistryPane(id="registry")
        with Horizontal(id="middle"):
            yield TimelinePane(id="timeline")
            yield MetricsPane(self.metrics, id="metrics")
        yield CommandPane(self.complete_command, id="command")
        yield Footer()

    def on_mount(self) -> None:
        if self.config.keymap:
            self.set_keymap(self.config.keymap)
        self._listener = self._on_pool_event
        self.engine.add_listener(self._listener)
        self.refresh_registry()
        self.set_interval(self.refresh_s, self._tick, name="refresh")
        self.query_one(RegistryPane).focus()
        self._show_state()
        self.theme_memory.restore()
        if self.offer_pull:
            self.call_after_refresh(self.maybe_offer_pull)
        elif self.offer_roles:
            self.call_after_refresh(offer_roles, self)

    async def on_unmount(self) -> None:
        if self._listener is not None:
            self.engine.remove_listener(self._listener)

    # -- names for completion, pickers and the palette -------------------------------------

    def model_names(self) -> list[str]:
        """Models that can be loaded now: catalog models on disk, and configured remotes."""
        if self.catalog is None:
            return []
        on_disk = self.catalog.on_disk_names()
        remotes = [n for n in self.catalog.names() if n.startswith("remote:")]
        return on_disk + remotes

    def pullable_names(self) -> list[str]:
        """Offline catalog models that are not on disk yet."""
        if self.catalog is None:
            return []
        on_disk = set(self.catalog.on_disk_names())
        return [n for n in self.catalog.offline_names() if n not in on_disk]

    def session_names(self) -> list[str]:
        """Session ids for completion: the folder's file names (no file is read)."""
        try:
            return SessionStore(self.config.sessions_dir).ids()
        except OSError:
            return []

    def loaded_roles(self) -> list[str]:
        return [m.role for m in self.engine.get_active_models()]

    def all_roles(self) -> list[str]:
        return list(dict.fromkeys([*SEED_ROLES, *self.loaded_roles()]))

    def vocabulary(self, text: str = "") -> Vocabulary:
        return Vocabulary(roles=self.loaded_roles(), models=self.model_names(),
                          sessions=self.session_names() if "session" in text else None)

    def complete_command(self, text: str) -> list[str]:
        """Whole-line completions for the command pane (names, roles, models, sessions)."""
        return complete(text, self.vocabulary(text))

    # -- engine events -> messages ---------------------------------------------------------

    def _on_pool_event(self, event: PoolEvent) -> None:
        # Called by the engine (in the loop, possibly from a worker): never touch widgets here.
        self.post_message(PoolChanged(event))

    def on_pool_changed(self, message: PoolChanged) -> None:
        ev = message.event
        self.registry_rows.observe(ev)
        if ev.kind == "swap_finished":
            self.metrics.swaps += 1
            # A running conversation records its own swap event; show pool swaps only outside
            # one.
            if not self.runner.running:
                self.query_one(TimelinePane).add_event(Swap(
                    role=ev.role, old_model_id=ev.old_model_id, new_model_id=ev.model_id,
                    seconds=ev.seconds, source="engine"))
        if ev.kind in ("load_failed", "failed", "evicted", "swap_failed"):
            self.notify(ev.detail or f"{ev.kind}: {ev.role}", title=f"{ev.role}",
                        severity="error" if ev.kind != "evicted" else "warning")
        self.refresh_registry()

    def _tick(self) -> None:
        # The interval timer is its own task: it can fire after shutdown has begun and the
        # panes are being removed. Nothing to draw then.
        if self.is_running:
            self.refresh_registry(record_memory=True)

    def refresh_registry(self, record_memory: bool = False) -> None:
        """Redraw the registry from the engine's current view."""
        try:
            infos = self.engine.get_active_models()
            memory = self.engine.get_memory_usage()
        except Exception as exc:  # noqa: BLE001 - a broken engine must not kill the UI
            self.log.error(f"engine refresh failed: {exc}")
            return
        self.query_one(RegistryPane).show(self.registry_rows.rows(infos, memory), memory)
        if record_memory:
            self.metrics.record_memory(memory.total)
            self.query_one(MetricsPane).refresh_metrics()

    # -- conversation messages -------------------------------------------------------------

    def on_turn_started(self, message: TurnStarted) -> None:
        self.query_one(TimelinePane).start_turn(message.turn_id, message.role, message.model_id)

    def on_token_streamed(self, message: TokenStreamed) -> None:
        self.query_one(TimelinePane).stream(message.turn_id, message.text)

    def on_turn_finished(self, message: TurnFinished) -> None:
        self.metrics.record_turn(message.model_id, message.tokens_per_s, message.latency_s)
        self.query_one(MetricsPane).refresh_metrics()

    def on_conversation_message(self, message: ConversationMessage) -> None:
        self.query_one(TimelinePane).add_message(message.message)
        self.metrics.record_round(message.message.round)

    def on_conversation_event(self, message: ConversationEvent) -> None:
        event = message.event
        timeline = self.query_one(TimelinePane)
        if isinstance(event, MessagePosted):
            self.on_conversation_message(ConversationMessage(event.message))
            return
        if isinstance(event, TurnMetrics):
            # Live turns are measured by the streaming executors; these come from replays.
            if message.replayed:
                self.metrics.record_turn(event.model_id or "?", event.tokens_per_s,
                                         event.latency_s)
                self.query_one(MetricsPane).refresh_metrics()
            return
        if isinstance(event, ConsensusScored):
            self.metrics.record_consensus(event.round, event.score)
            self.query_one(MetricsPane).refresh_metrics()
        if isinstance(event, TurnFailed):
            self.metrics.failures += 1
        if isinstance(event, Swap) and message.replayed:
            # Live swaps are counted from the pool's swap_finished events.
            self.metrics.swaps += 1
        timeline.add_event(event)

    def on_timeline_reset(self, message: TimelineReset) -> None:
        self.query_one(TimelinePane).clear_entries()
        self.metrics.reset_conversation()
        self.query_one(MetricsPane).refresh_metrics()

    def on_turn_aborted(self, message: TurnAborted) -> None:
        self.query_one(TimelinePane).end_turn(message.turn_id, message.role)

    @property
    def conversation_state(self) -> str:
        """The runner's state (the one copy of it)."""
        return self.runner.state.value

    def on_conversation_state(self, message: ConversationState) -> None:
        self._show_state()
        if message.state in ("finished", "failed") and message.detail:
            self.notify(message.detail, title=f"conversation {message.state}",
                        severity="error" if message.state == "failed" else "information")

    def _show_state(self) -> None:
        timeline = self.query_one(TimelinePane)
        session = self.runner.session_id
        timeline.border_subtitle = self.conversation_state + (f" · {session}" if session else "")
        self.refresh_bindings()

    # -- results of workers ----------------------------------------------------------------

    def on_command_progress(self, message: CommandProgress) -> None:
        self.command_line(message.text, ok=True)
        if message.to_timeline:
            self.query_one(TimelinePane).add_event(Note(text=message.text))

    def on_command_finished(self, message: CommandFinished) -> None:
        self.command_line(message.text, ok=message.ok)
        lines = message.text.splitlines()
        if message.to_timeline:
            # A refactor's outcome sits beside its progress lines.
            self.query_one(TimelinePane).add_event(Note(text=message.text))
        elif message.ok and len(lines) > 1:
            # Tables (llm.registry.list, help) do not fit one line: show them in the timeline.
            self.query_one(TimelinePane).add_event(Note(text=message.text))
        elif message.detail:
            self.notify(message.detail, title="command error", severity="error", timeout=10)
        elif lines and len(lines[0]) > self.query_one(CommandPane).size.width - 4:
            # A long one-liner (an export path) is cut in the result line; show it whole.
            self.notify(message.text, severity="information" if message.ok else "error")
        self.refresh_registry()

    def on_pull_progress(self, message: PullProgress) -> None:
        if message.finished and not message.error:
            self.notify(f"{message.name} is on disk", title="pull")

    def command_line(self, text: str, ok: bool) -> None:
        self.query_one(CommandPane).show_result(text, ok)

    # -- one route: keys, the palette and the command pane all run commands ----------------

    def dispatch(self, *target: str, args: tuple[Any, ...] = (), **kwargs: Any) -> None:
        """Run the command language's ``target(*args, **kwargs)`` through the dispatcher, as if
        typed in the command pane: one route for every action, one reply format per result."""
        self.run_command(str(Command(tuple(target), args, kwargs)))

    def load_into(self, model_id: str, role: str) -> None:
        self.dispatch("llm", "registry", "load", args=(model_id, role))

    def unload_role(self, role: str) -> None:
        self.dispatch("llm", "registry", "unload", args=(role,))

    def swap_role(self, role: str, model_id: str) -> None:
        self.dispatch("llm", "registry", "hotswap", args=(role, model_id))

    @work(group="command", exit_on_error=False)
    async def run_command(self, text: str) -> None:
        def progress(line: str, long: bool) -> None:
            self.post_message(CommandProgress(text, line, to_timeline=long))

        out = await self.command_route.run(text, progress)
        self.post_message(CommandFinished(text, out.ok, out.body, out.detail,
                                          to_timeline=out.long and not out.ok))

    # -- the command pane ------------------------------------------------------------------

    @on(CommandPane.Submitted)
    def command_submitted(self, message: CommandPane.Submitted) -> None:
        self.run_command(message.text)

    @on(CommandInput.Changed)
    def command_changed(self, event: CommandInput.Changed) -> None:
        hint = signature_hint(event.value) if event.value else None
        if hint:
            self.query_one(CommandPane).show_result(hint, ok=True)

    # -- the registry ----------------------------------------------------------------------

    @on(RegistryPane.RowSelected)
    def role_menu(self, event: RegistryPane.RowSelected) -> None:
        """Enter on a role: what can be done with it now."""
        self.model_flows.role_menu(str(event.row_key.value))

    # -- the timeline ----------------------------------------------------------------------

    @on(TimelinePane.Opened)
    def open_entry(self, message: TimelinePane.Opened) -> None:
        self.conversation_flows.open_entry(message.entry)

    # -- actions (keys and palette) --------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Grey out what makes no sense now (the footer and palette follow this)."""
        if isinstance(self.screen, ModalScreen) and action not in ("quit", "command_palette"):
            return False  # one dialog at a time: letters belong to the dialog
        if action == "pause":
            return self.conversation_state in ("running", "paused")
        if action == "stop":
            return self.runner.running
        if action in ("unload", "swap", "pin"):
            try:
                return bool(self.loaded_roles()) or None
            except Exception:  # noqa: BLE001
                return True
        return True

    def action_load(self, model: str | None = None, role: str | None = None) -> None:
        """Load a model into a role (pick both from lists unless given)."""
        if model and role:
            self.load_into(model, role)
            return
        self.model_flows.load()

    def action_swap(self, role: str | None = None, model: str | None = None) -> None:
        """Hot-swap a role's model: pick the role, then the new model."""
        if role and model:
            self.swap_role(role, model)
            return
        self.model_flows.swap()

    def action_unload(self, role: str | None = None) -> None:
        """Unload a role's model."""
        if role:
            self.unload_role(role)
            return
        self.model_flows.unload()

    def action_pin(self, role: str | None = None) -> None:
        """Toggle whether a role's model is pinned (never evicted)."""
        self.model_flows.pin(role)

    def action_start(self) -> None:
        """Start a conversation (asks for the prompt and protocol); resumes when paused."""
        self.conversation_flows.start()

    def action_pause(self) -> None:
        """Pause the conversation after the turns in flight; again to resume."""
        self.dispatch("conversation", "resume" if self.conversation_state == "paused" else "pause")

    def action_stop(self) -> None:
        """Stop the conversation."""
        self.dispatch("conversation", "stop")

    def action_export(self) -> None:
        """Export the current or opened conversation (pick the format, name the file)."""
        self.conversation_flows.export()

    def action_open_session(self) -> None:
        """Open a recorded session into the timeline (the list fills from a worker thread)."""
        self.conversation_flows.open_session()

    def action_fork(self) -> None:
        """Fork the session after the message selected in the timeline (asks ROLE=MODEL)."""
        self.fork_flows.fork()

    def action_compare(self) -> None:
        """Compare the session's branches side by side from their fork point."""
        self.fork_flows.compare()

    def action_refactor(self, path: str | None = None) -> None:
        """Refactor a .ts/.tsx file or folder with the loaded roles (asks for the path).

        Runs ``code.refactor`` in the command worker: progress and the outcome appear in the
        command pane and the timeline; the output folder is under ``refactor-out/``.
        """
        self.conversation_flows.refactor(path)

    def action_help(self) -> None:
        """Show the keys and the command language."""
        # One help screen, kept between opens: a kept screen reuses its rendered lines instead
        # of laying out its two tables again.
        keys = self.key_table()
        if self._help is None or self._help.keys != keys:
            if self._help is not None:
                self.uninstall_screen(self._help)
            self._help = HelpScreen(keys)
            self.install_screen(self._help, name="help")
        self.push_screen("help")

    def key_table(self) -> list[tuple[str, str, str]]:
        """(keys, binding id, description) for every app binding, after the user's keymap."""
        rows = []
        keymap = getattr(self, "_keymap", {}) or {}
        for binding in self.BINDINGS:
            if not isinstance(binding, Binding):
                continue
            keys = keymap.get(binding.id or "", binding.key)
            rows.append((keys.replace(",", " / "), binding.id or "", binding.description))
        rows.append(("ctrl+p", "command_palette", "Command palette"))
        rows.append(("tab / shift+tab", "", "Move between panes"))
        return rows

    def action_focus_command(self) -> None:
        self.query_one(CommandInput).focus()

    def action_toggle_theme(self) -> None:
        """Switch between the default (dark) theme and the light one."""
        self.theme_memory.toggle()

    def action_pull(self, names: list[str] | None = None, title: str | None = None,
                    start: bool = False,
                    done: Callable[[list[str]], object] | None = None) -> None:
        """Pull models (the default pool unless named) with a progress dialog; ``start``
        skips the question, ``done`` gets the names that arrived."""
        self.model_flows.pull(names, title, start, done)

    def maybe_offer_pull(self) -> None:
        """First run: no model on disk, so offer to pull the default pool; then (or when models
        are on disk) offer to load the configured roles and run the example conversation."""
        self.model_flows.offer_pull()
