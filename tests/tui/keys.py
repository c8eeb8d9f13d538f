"""Key-driven steps shared by the Pilot tests: pick from lists, load, start."""

from __future__ import annotations

from logomesh_tui.tui import LogoMeshApp
from logomesh_tui.tui.screens.pick import PickScreen, PromptScreen
from logomesh_tui.tui.widgets.registry import RegistryPane

from .conftest import wait_for


def registry(app: LogoMeshApp) -> RegistryPane:
    return app.query_one(RegistryPane)


def result_line(app: LogoMeshApp) -> str:
    return str(app.query_one("#command-result").render())


async def pick(pilot, value: str) -> None:
    """Move the open PickScreen's cursor to ``value`` with arrow keys, then press Enter."""
    screen = pilot.app.screen
    assert isinstance(screen, PickScreen), f"expected a pick list, got {screen!r}"
    values = [v for v, _ in screen.options]
    assert value in values, f"{value} not offered; offered: {values}"
    options = screen.query_one("#pick-list")
    for _ in range(len(values) + 1):
        if options.highlighted is not None and values[options.highlighted] == value:
            break
        await pilot.press("down")
    await pilot.press("enter")
    await pilot.pause()


async def load_by_keys(pilot, role: str, model: str, timeout: float = 10.0) -> None:
    app = pilot.app
    await pilot.press("f2")
    await pick(pilot, role)
    await pick(pilot, model)
    await wait_for(pilot, lambda: registry(app).rows_by_role.get(role) is not None
                   and registry(app).rows_by_role[role].model_id == model
                   and registry(app).rows_by_role[role].status == "ready",
                   timeout=timeout, what=f"{model} ready as {role}",
                   detail=lambda: result_line(app))


async def start_by_keys(pilot, prompt: str, protocol: str = "four-round") -> None:
    await pilot.press("f5")
    assert isinstance(pilot.app.screen, PromptScreen)
    await pilot.press(*prompt)
    await pilot.press("enter")
    await pilot.pause()
    await pick(pilot, protocol)
    await wait_for(pilot, lambda: pilot.app.conversation_state != "idle",
                   what="the conversation to start")
