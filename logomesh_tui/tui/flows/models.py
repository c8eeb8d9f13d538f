"""ModelFlows: load, hot-swap, unload and pin a role, the registry's role menu, and pulls."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from ...units import format_bytes
from ..first_run import offer_roles
from ..screens.pick import PickScreen
from ..screens.pull import PullScreen
from ..widgets.registry import RegistryPane

if TYPE_CHECKING:
    from ..app import LogoMeshApp

PULL_PREFIX = "pull:"  # a model-list value meaning "not on disk: pull it, then use it"


class ModelFlows:
    """The terminal's stand-in for drag and drop: a role list, then a model list."""

    def __init__(self, app: LogoMeshApp) -> None:
        self.app = app

    def highlighted_role(self) -> str | None:
        return self.app.query_one(RegistryPane).highlighted_role

    def role_options(self, loaded_only: bool) -> list[tuple[str | None, str]]:
        infos = {m.role: m for m in self.app.engine.get_active_models()}
        roles = list(infos) if loaded_only else self.app.all_roles()
        out: list[tuple[str | None, str]] = []
        for role in roles:
            info = infos.get(role)
            label = f"{role:<24} {info.model_id if info else '(empty)'}"
            if info and info.pinned:
                label += "  pinned"
            out.append((role, label))
        return out

    def model_options(self, exclude: str | None = None) -> list[tuple[str | None, str]]:
        app = self.app
        options: list[tuple[str | None, str]] = []
        specs = {s.name: s for s in app.catalog.specs()} if app.catalog is not None else {}
        for name in app.model_names():
            if name == exclude:
                continue
            spec = specs.get(name)
            size = format_bytes(spec.size_bytes, compact=True) if spec and spec.size_bytes else ""
            desc = f"{spec.params} {spec.quant}" if spec else ""
            options.append((name, f"{name:<22} {desc:<14} {size}"))
        for name in app.pullable_names():
            options.append((PULL_PREFIX + name, f"{name:<22} not on disk: Enter pulls it first"))
        if not options:
            options.append((None, "no models found; pull some with `logomesh-tui models pull`"))
        return options

    def with_model(self, choice: str | None, use: Callable[[str], object]) -> None:
        """Act on a picked model; one not on disk is pulled first (with progress)."""
        if not choice:
            return
        if choice.startswith(PULL_PREFIX):
            name = choice.removeprefix(PULL_PREFIX)
            self.app.action_pull([name], start=True,
                                 done=lambda pulled: use(name) if name in pulled else None)
            return
        use(choice)

    def pick_role_then_model(self, title: str, loaded_only: bool,
                             then: Callable[[str, str], object]) -> None:
        """A role list, then a model list; ``then(role, model)`` acts on the pair."""
        app = self.app
        role_options = self.role_options(loaded_only)
        if not role_options:
            app.command_line("no models loaded; press F2 to load one", ok=False)
            return

        def role_picked(role: str | None) -> None:
            if not role:
                return
            current = next((m.model_id for m in app.engine.get_active_models()
                            if m.role == role), None)
            app.push_screen(
                PickScreen(f"{title}: model for {role}", self.model_options(exclude=current)),
                lambda model: self.with_model(model, lambda m: then(role, m)))

        app.push_screen(PickScreen(f"{title}: pick the role", role_options,
                                   highlight=self.highlighted_role()), role_picked)

    def pick_loaded_role(self, title: str, then: Callable[[str], object]) -> None:
        options = self.role_options(loaded_only=True)
        if not options:
            self.app.command_line("no models loaded; press F2 to load one", ok=False)
            return

        def picked(role: str | None) -> None:
            if role:
                then(role)

        self.app.push_screen(PickScreen(title, options, highlight=self.highlighted_role()),
                             picked)

    def load(self) -> None:
        self.pick_role_then_model("Load", loaded_only=False,
                                  then=lambda r, m: self.app.load_into(m, r))

    def swap(self) -> None:
        self.pick_role_then_model("Hot-swap", loaded_only=True, then=self.app.swap_role)

    def unload(self) -> None:
        self.pick_loaded_role("Unload which role?", self.app.unload_role)

    def pin(self, role: str | None) -> None:
        """Toggle ``role``'s pin; without one, the highlighted role when the registry has the
        focus, else the role picked from a list."""
        app = self.app

        def toggle(r: str) -> None:
            info = next((m for m in app.engine.get_active_models() if m.role == r), None)
            app.dispatch("llm", "registry", "pin", args=(r, not (info.pinned if info else False)))

        if role:
            toggle(role)
            return
        highlighted = self.highlighted_role()
        if highlighted in app.loaded_roles() and app.focused is app.query_one(RegistryPane):
            toggle(highlighted)
        else:
            self.pick_loaded_role("Pin or unpin which role?", toggle)

    def role_menu(self, role: str) -> None:
        """What can be done with ``role`` now (Enter on its registry row)."""
        app = self.app
        info = next((m for m in app.engine.get_active_models() if m.role == role), None)
        if info is None:
            options = [("load", f"Load a model into {role}")]
        else:
            options = [("swap", f"Hot-swap {info.model_id} for another model"),
                       ("pin", "Unpin" if info.pinned else "Pin (never evict)"),
                       ("unload", f"Unload {info.model_id}")]

        def chosen(what: str | None) -> None:
            if what == "load":
                app.push_screen(
                    PickScreen(f"Load: model for {role}", self.model_options()),
                    lambda model: self.with_model(model, lambda m: app.load_into(m, role)))
            elif what == "swap":
                app.push_screen(
                    PickScreen(f"Hot-swap: model for {role}",
                               self.model_options(exclude=info.model_id if info else None)),
                    lambda model: self.with_model(model, lambda m: app.swap_role(role, m)))
            elif what == "pin":
                app.action_pin(role)
            elif what == "unload":
                app.unload_role(role)

        app.push_screen(PickScreen(role, options), chosen)

    def pull(self, names: list[str] | None, title: str | None, start: bool,
             done: Callable[[list[str]], object] | None) -> None:
        """Pull models (the default pool unless named) with a progress dialog."""
        app = self.app
        catalog = app.catalog
        if catalog is None:
            app.command_line("no model catalog available", ok=False)
            return
        from ...catalog import pull as pull_model

        specs = {s.name: s for s in catalog.specs()}
        names = names or [s.name for s in catalog.specs() if s.default_pool]
        models = [(n, specs[n].size_bytes if n in specs else None) for n in names]
        title = title or ("Pull models" if len(names) > 1 else f"Pull {names[0]}")

        def finished(pulled: list[str] | None) -> None:
            app.refresh_registry()
            if done is not None and pulled:
                done(pulled)

        app.push_screen(PullScreen(models, lambda n, cb: pull_model(catalog, n, cb),
                                   title=title, start=start), finished)

    def offer_pull(self) -> None:
        """First run: no model on disk, so offer to pull the default pool; then (or when models
        are on disk) offer to load the configured roles and run the example conversation."""
        app = self.app
        if app.catalog is None:
            return
        if app.model_names():
            if app.offer_roles:
                offer_roles(app)
            return
        app.action_pull(title="No models on disk yet: the default pool",
                        done=(lambda _pulled: offer_roles(app)) if app.offer_roles else None)
