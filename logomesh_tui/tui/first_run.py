"""Start of the dashboard with nothing loaded: offer the roles of the config's ``[roles]`` table
(the default pool when absent) and the bundled example conversation, so a newcomer reaches a
running conversation with one key (Enter)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ..commands.syntax import Command
from ..errors import LogoMeshError
from .messages import CommandFinished
from .screens.welcome import EXAMPLE, LOAD, WelcomeScreen

if TYPE_CHECKING:
    from .app import LogoMeshApp


def offer_roles(app: LogoMeshApp) -> None:
    """Show the welcome dialog when no role is loaded and some configured model is on disk."""
    from ..scenario import example_scenario_path

    if app.loaded_roles():
        return
    on_disk = set(app.model_names())
    roles = {role: model for role, model in app.config.roles.items() if model in on_disk}
    if not roles:
        return
    example = example_scenario_path()
    label = example.name if example else None

    def chosen(choice: str | None) -> None:
        if choice in (EXAMPLE, LOAD):
            app.run_worker(load_roles(app, roles, example if choice == EXAMPLE else None),
                           group="models", exit_on_error=False, name="first-run")

    app.push_screen(WelcomeScreen(roles, label), chosen)


async def load_roles(app: LogoMeshApp, roles: dict[str, str], example: Path | None) -> None:
    """Load ``roles`` one after another (parallel loads fight for the cores), then start the
    example conversation among those that loaded. Every step goes through the dispatcher, the
    one route keys, palette and command pane share, and reports like a typed command."""
    for role in roles:
        app.registry_rows.mark(role, "loading")
    app.refresh_registry()
    loaded = []
    for role, model in roles.items():
        text = str(Command(("llm", "registry", "load"), (model, role), {}))
        try:
            result = await app.dispatcher.run(text)
        finally:
            app.registry_rows.clear(role)
        app.post_message(CommandFinished(text, result.ok, "\n".join(result.lines) if result.ok
                                         else (result.error or "failed"), result.detail))
        if result.ok:
            loaded.append(role)
    if example is None or not loaded:
        return
    try:
        from ..scenario import Scenario

        scenario = Scenario.load(example)
        files = [str(scenario.resolve_input(name)) for name in scenario.input_files]
    except LogoMeshError as exc:
        app.post_message(CommandFinished("example conversation", False, str(exc)))
        return
    kwargs: dict = {"protocol": scenario.protocol, "roles": loaded, "files": files,
                    "arbitration": scenario.arbitration}
    if scenario.limits.max_rounds is not None:
        kwargs["max_rounds"] = scenario.limits.max_rounds
    app.dispatch("conversation", "start", args=(scenario.prompt.strip(),), **kwargs)
