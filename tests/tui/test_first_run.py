"""First run as a newcomer meets it: the roles of config.toml's [roles] (the default pool when
absent) and the bundled example conversation, reached in at most three keys; the theme kept
between runs; an unknown [keymap] id refused in one line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from logomesh_tui.config import DEFAULT_ROLES, EngineConfig
from logomesh_tui.errors import ConfigError
from logomesh_tui.tui import LogoMeshApp
from logomesh_tui.tui.app import binding_ids

from .conftest import wait_for


class CountingPilot:
    """Presses keys through Pilot and counts them."""

    def __init__(self, pilot) -> None:
        self.pilot = pilot
        self.keys = 0

    async def press(self, *keys: str) -> None:
        self.keys += len(keys)
        await self.pilot.press(*keys)


async def test_newcomer_reaches_a_running_conversation_in_at_most_three_keys(fake_engine,
                                                                             fake_config):
    app = LogoMeshApp(fake_engine, config=fake_config)  # as `logomesh-tui` starts it
    async with app.run_test(size=(100, 30)) as pilot:
        keys = CountingPilot(pilot)
        await wait_for(pilot, lambda: type(app.screen).__name__ == "WelcomeScreen",
                       what="the welcome dialog")
        await pilot.pause()
        text = " ".join(str(label.render()) for label in app.screen.query("Label"))
        assert "qwen2.5-coder-1.5b" in text and "seed-scenario.toml" in text
        assert "the [roles] table" in text
        await keys.press("enter")
        await wait_for(pilot, lambda: app.conversation_state in ("running", "finished"),
                       timeout=30, what="the example conversation to start",
                       detail=lambda: app.conversation_state)
        assert keys.keys <= 3
        assert sorted(app.loaded_roles()) == sorted(DEFAULT_ROLES)
        assert {m.model_id for m in fake_engine.get_active_models()} == set(DEFAULT_ROLES.values())
        await wait_for(pilot, lambda: app.conversation_state == "finished", timeout=60,
                       what="the example conversation to finish")
        session = app.runner.session
        # Named as given (the example's path on disk), so the checks can find it.
        assert [n for n in session.input_files if n.endswith("/Dashboard.tsx")]
        assert all(Path(n).is_file() for n in session.input_files)


async def test_roles_come_from_the_config(fake_engine, fake_config):
    fake_config.roles = {"reviewer": "gemma-3-270m", "critic": "smollm2-135m"}
    app = LogoMeshApp(fake_engine, config=fake_config)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: type(app.screen).__name__ == "WelcomeScreen",
                       what="the welcome dialog")
        await pilot.press("l")  # only load them
        await wait_for(pilot, lambda: len(app.loaded_roles()) == 2, what="both roles loaded")
        assert {(m.role, m.model_id) for m in fake_engine.get_active_models()} == {
            ("reviewer", "gemma-3-270m"), ("critic", "smollm2-135m")}
        assert app.conversation_state == "idle"


async def test_escape_starts_empty_and_the_roles_table_is_read_from_toml(fake_engine, fake_config,
                                                                          tmp_path):
    cfg = tmp_path / "config.toml"
    cfg.write_text('[roles]\nprimary-analyzer = "smollm2-135m"\n')
    assert EngineConfig.load(cfg).roles == {"primary-analyzer": "smollm2-135m"}
    app = LogoMeshApp(fake_engine, config=fake_config)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: type(app.screen).__name__ == "WelcomeScreen",
                       what="the welcome dialog")
        await pilot.press("escape")
        await pilot.pause()
        assert type(app.screen).__name__ != "WelcomeScreen" and app.loaded_roles() == []


async def test_theme_is_remembered_across_runs(fake_engine, fake_config, tmp_path, monkeypatch):
    monkeypatch.setenv("LOGOMESH_STATE_DIR", str(tmp_path / "state"))
    app = LogoMeshApp(fake_engine, config=fake_config, offer_pull=False)
    async with app.run_test(size=(80, 24)) as pilot:
        first = app.theme
        await pilot.press("ctrl+t")
        await wait_for(pilot, lambda: (tmp_path / "state" / "ui-state.json").exists(),
                       what="the theme to be saved")
        changed = app.theme
        assert changed != first
    saved = json.loads((tmp_path / "state" / "ui-state.json").read_text())
    assert saved == {"theme": changed}
    again = LogoMeshApp(fake_engine, config=fake_config, offer_pull=False)
    async with again.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert again.theme == changed


def test_unknown_keymap_id_is_refused_in_one_line(fake_engine, fake_config):
    fake_config.keymap = {"help": "ctrl+y", "hlep": "f12"}
    with pytest.raises(ConfigError) as exc:
        LogoMeshApp(fake_engine, config=fake_config, offer_pull=False)
    message = str(exc.value)
    assert "'hlep'" in message and "help" in message and "\n" not in message


def test_every_screen_binding_id_can_be_remapped():
    ids = binding_ids()
    assert {"help", "quit", "pull.start", "dialog.cancel", "welcome.example",
            "command.complete"} <= ids
