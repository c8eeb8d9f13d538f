"""The command palette provider: every dashboard action, offered only when it makes sense now.

Hot-swap, unload and pin list only roles that hold a model; load lists only models on disk;
pull lists only catalog models that are not on disk; pause/stop only while a conversation runs;
refactor only once a role holds a model.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

from textual.command import DiscoveryHit, Hit, Hits, Provider

if TYPE_CHECKING:
    from .app import LogoMeshApp

Entry = tuple[str, Callable[[], object], str]


class PaletteActions(Provider):
    """Palette entries built from the engine's and the conversation's state at open time."""

    def _entries(self) -> list[Entry]:
        app: LogoMeshApp = self.app  # type: ignore[assignment]
        out: list[Entry] = []
        try:
            infos = {m.role: m for m in app.engine.get_active_models()}
        except Exception:  # noqa: BLE001 - the palette must open even if the engine is broken
            infos = {}
        models = app.model_names()
        state = app.conversation_state

        out.append(("Load a model into a role…", app.action_load,
                    "pick the role, then a model on disk"))
        for role in app.all_roles():
            if role in infos:
                continue
            for model in models:
                out.append((f"Load {model} into {role}", partial(app.action_load, model, role),
                            "load this model into the empty role"))
        if infos:
            out.append(("Hot-swap a role…", app.action_swap, "pick the role, then the new model"))
        for role, info in infos.items():
            for model in models:
                if model != info.model_id:
                    out.append((f"Hot-swap {role} to {model}", partial(app.action_swap, role, model),
                                f"replace {info.model_id}; the conversation goes on"))
            out.append((f"Unload {role}", partial(app.action_unload, role),
                        f"stop {info.model_id} and free its memory"))
            out.append((f"{'Unpin' if info.pinned else 'Pin'} {role}", partial(app.action_pin, role),
                        "pinned models are never evicted"))
        for name in app.pullable_names():
            out.append((f"Pull {name}", partial(app.action_pull, [name]),
                        "download this model into the models folder"))
        if state in ("running",):
            out.append(("Pause conversation", app.action_pause, "after the turns in flight"))
        if state in ("paused",):
            out.append(("Resume conversation", app.action_start, "continue where it paused"))
        if app.runner.running:
            out.append(("Stop conversation", app.action_stop, "end it; the session is kept"))
        elif infos:
            out.append(("Start conversation…", app.action_start,
                        "prompt the loaded roles to collaborate"))
        if infos:
            out.append(("Refactor TypeScript code…", app.action_refactor,
                        "the loaded roles refactor a .ts/.tsx file; tsc verifies (ctrl+r)"))
        if app.runner.session_id:
            out.append(("Export conversation…", app.action_export,
                        "training data, OpenAI chat, ShareGPT or DPO"))
        if app.runner.session_id and not app.runner.running:
            out.append(("Fork at the selected message…", app.action_fork,
                        "a branch with another model for a role (k)"))
            out.append(("Compare branches…", app.action_compare,
                        "the session's branches side by side from the fork point (c)"))
        out.append(("Open session…", app.action_open_session, "replay a recorded session"))
        out.append(("Focus the command line", app.action_focus_command, "type a DevShell command"))
        out.append(("Toggle light theme", app.action_toggle_theme, "switch dark / light"))
        out.append(("Help: keys and commands", app.action_help, "F1"))
        return out

    async def discover(self) -> Hits:
        for name, callback, help_text in self._entries():
            if name.endswith("…") or name.startswith(("Pause", "Resume", "Stop", "Export",
                                                      "Help", "Open", "Start", "Fork",
                                                      "Compare")):
                yield DiscoveryHit(name, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, callback, help_text in self._entries():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), callback, help=help_text)
