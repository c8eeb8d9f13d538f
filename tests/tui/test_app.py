"""The dashboard driven by real key presses (Pilot) on an engine of FakeBackends."""

from __future__ import annotations

import json

from textual import events

from logomesh_tui.conversation.consensus import Candidate, ConsensusState
from logomesh_tui.conversation.messages import LLMMessage, MessageType
from logomesh_tui.sessions.store import SessionStore
from logomesh_tui.tui import LogoMeshApp
from logomesh_tui.tui.messages import TokenStreamed, TurnStarted
from logomesh_tui.tui.palette import PaletteActions
from logomesh_tui.tui.screens.arbitration import ArbitrationScreen
from logomesh_tui.tui.screens.help import HelpScreen
from logomesh_tui.tui.screens.pick import PickScreen, PromptScreen
from logomesh_tui.tui.widgets.command import CommandInput, CommandPane
from logomesh_tui.tui.widgets.metrics import MetricsPane
from logomesh_tui.tui.widgets.timeline import TimelinePane

from .conftest import wait_for
from .keys import load_by_keys, pick, registry, result_line, start_by_keys


async def test_load_two_models_into_roles_by_keys(app):
    async with app.run_test(size=(100, 30)) as pilot:
        await load_by_keys(pilot, "primary-analyzer", "smollm2-135m")
        await load_by_keys(pilot, "architecture-critic", "gemma-3-270m")
        rows = registry(app).rows_by_role
        assert rows["primary-analyzer"].rss_bytes == 100_000_000
        assert rows["optimization-specialist"].status == "empty"
        assert "loaded gemma-3-270m as architecture-critic" in result_line(app)
        assert {m.role: m.model_id for m in app.engine.get_active_models()} == {
            "primary-analyzer": "smollm2-135m", "architecture-critic": "gemma-3-270m"}
        # The table itself shows it, not only the model behind it.
        table = registry(app)
        cells = [str(c) for c in table.get_row("architecture-critic")]
        assert any("gemma-3-270m" in c for c in cells) and any("ready" in c for c in cells)


async def test_conversation_streams_swaps_by_key_and_exports(app, fake_engine, tmp_path):
    # Slow tokens so the conversation is still running when the swap key is pressed.
    from .scripted import fake_factory

    fake_engine.backend_factory = fake_factory(token_delay_s=0.05)
    posted: list = []
    async with app.run_test(size=(100, 30), message_hook=posted.append) as pilot:
        await load_by_keys(pilot, "primary-analyzer", "smollm2-135m")
        await load_by_keys(pilot, "architecture-critic", "gemma-3-270m")
        await start_by_keys(pilot, "Analyse the component")
        timeline = app.query_one(TimelinePane)
        await wait_for(pilot, lambda: any(e.kind == "message" for e in timeline.entries),
                       what="a first message")
        assert app.conversation_state == "running"

        # Paused while the swap loads, so the conversation cannot end before it lands on a
        # busy machine; the swap still happens between turns of a running conversation.
        await pilot.press("f6")
        await wait_for(pilot, lambda: app.conversation_state == "paused", what="paused")
        await pilot.press("f4")
        await pick(pilot, "architecture-critic")
        await pick(pilot, "qwen2.5-coder-0.5b")
        await wait_for(pilot, lambda: registry(app).rows_by_role["architecture-critic"].model_id
                       == "qwen2.5-coder-0.5b", what="the swap")
        await pilot.press("f6")
        await wait_for(pilot, lambda: app.conversation_state == "finished", timeout=30,
                       what="the conversation to finish")

        entries = timeline.entries
        swaps = [e for e in entries if e.kind == "event" and e.event_kind == "swap"]
        assert len(swaps) == 1 and swaps[0].event.new_model_id == "qwen2.5-coder-0.5b"
        after = entries[entries.index(swaps[0]) + 1:]
        critic_models = {e.model_id for e in after
                         if e.kind == "message" and e.role == "architecture-critic"}
        assert critic_models == {"qwen2.5-coder-0.5b"}, "the new model spoke after the swap"
        assert any(e.kind == "event" and e.event_kind == "consensus" for e in entries)
        assert not any(e.kind == "streaming" for e in entries), "every stream became a message"
        assert registry(app).rows_by_role["architecture-critic"].model_id == "qwen2.5-coder-0.5b"

        tokens = [m for m in posted if isinstance(m, TokenStreamed)]
        turns = [m for m in posted if isinstance(m, TurnStarted)]
        assert len(turns) >= 4 and len(tokens) > 5 * len(turns), "tokens streamed one by one"

        metrics = app.query_one(MetricsPane).render_metrics(40).plain
        assert "smollm2-135m" in metrics and "qwen2.5-coder-0.5b" in metrics
        assert app.metrics.consensus, "consensus per round recorded"
        assert app.metrics.swaps == 1

        session_id = app.controller.session_id
        kinds = [e.kind for e in SessionStore(app.config.sessions_dir).read(session_id).events]
        assert "swap" in kinds and kinds.count("message") >= 4

        await pilot.press("f9")
        await pick(pilot, "openai-chat")
        assert isinstance(app.screen, PromptScreen)
        await pilot.press("ctrl+u", *"run-one", "enter")
        folder = tmp_path / "exports" / "run-one"
        await wait_for(pilot, lambda: any(folder.glob("*.jsonl")), what="the export file",
                       detail=lambda: result_line(app))
        out = next(folder.glob("*.jsonl"))
        rows = [json.loads(line) for line in out.read_text().splitlines()]
        assert rows and all("messages" in r for r in rows)
        await wait_for(pilot, lambda: "exported" in result_line(app), what="export result")


async def test_pause_holds_new_turns_and_resume_continues(app, fake_engine):
    from .scripted import fake_factory

    fake_engine.backend_factory = fake_factory(token_delay_s=0.05)
    started: list[TurnStarted] = []
    async with app.run_test(size=(100, 30),
                            message_hook=lambda m: isinstance(m, TurnStarted)
                            and started.append(m)) as pilot:
        await load_by_keys(pilot, "primary-analyzer", "smollm2-135m")
        await load_by_keys(pilot, "architecture-critic", "gemma-3-270m")
        await start_by_keys(pilot, "Review this")
        await wait_for(pilot, lambda: len(started) >= 1, what="a first turn")
        await pilot.press("f6")
        assert app.conversation_state == "paused"

        def subtitle() -> str:
            # Queried on whatever screen is active; a screen still closing over the timeline
            # (seen once on a loaded machine) must not fail the test, only delay the check.
            panes = app.screen.query(TimelinePane)
            return str(panes.first().border_subtitle) if panes else ""

        await wait_for(pilot, lambda: "paused" in subtitle(), what="the paused subtitle")
        # Let the turn in flight finish; then nothing new may start while paused.
        await pilot.pause(0.6)
        count = len(started)
        await pilot.pause(0.5)
        assert len(started) == count
        await pilot.press("f6")
        await wait_for(pilot, lambda: len(started) > count, what="a turn after resume")
        await pilot.press("f7")
        await wait_for(pilot, lambda: app.conversation_state == "stopped", what="stopped")


async def test_command_pane_runs_completes_and_remembers(app):
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("colon")
        command = app.query_one(CommandInput)
        assert app.focused is command
        await pilot.press(*'llm.registry.load("smollm2-135m", "primary-analyzer")', "enter")
        await wait_for(pilot, lambda: registry(app).rows_by_role["primary-analyzer"].status
                       == "ready", what="the load")
        assert "loaded smollm2-135m as primary-analyzer" in result_line(app)

        # A second ":" at the start of the empty line is the prefix again, as in vim; later in
        # a command it is an ordinary character.
        await pilot.press("colon", *'llm.registry.load("no-such-model", "primary-analyzer")', "enter")
        await wait_for(pilot, lambda: "error:" in result_line(app), what="an inline error")
        assert "no-such-model" in result_line(app)
        assert app.query_one("#command-result").has_class("error")

        await pilot.press("up")
        assert command.value == 'llm.registry.load("no-such-model", "primary-analyzer")'
        await pilot.press("up")
        assert command.value.startswith('llm.registry.load("smollm2-135m"')
        await pilot.press("down", "down")
        assert command.value == ""

        await pilot.press(*'x:', "colon")
        assert command.value == "x::"
        command.value = ""

        await pilot.press(*"llm.registry.hot", "tab")
        assert command.value == "llm.registry.hotswap("
        await pilot.press(*'"prim', "tab")
        assert command.value == 'llm.registry.hotswap("primary-analyzer"'


async def test_palette_offers_only_what_makes_sense(app, fake_config):
    (fake_config.models_dir / "qwen2.5-coder-1.5b.gguf").unlink()
    async with app.run_test(size=(100, 30)) as pilot:
        provider = PaletteActions(app.screen)
        names = [n for n, _, _ in provider._entries()]
        assert not any(n.startswith(("Hot-swap ", "Unload ", "Pause", "Stop")) for n in names)
        assert "Pull qwen2.5-coder-1.5b" in names and "Pull smollm2-135m" not in names
        assert "Load qwen2.5-coder-1.5b into primary-analyzer" not in names

        await load_by_keys(pilot, "primary-analyzer", "smollm2-135m")
        names = [n for n, _, _ in provider._entries()]
        assert "Hot-swap primary-analyzer to gemma-3-270m" in names
        assert "Hot-swap primary-analyzer to smollm2-135m" not in names
        assert "Unload primary-analyzer" in names and "Start conversation…" in names
        assert not any(n.startswith("Load ") and "into primary-analyzer" in n for n in names)

        # Through the real palette: ctrl+p, type, Enter.
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"Unload primary")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await wait_for(pilot, lambda: not app.engine.get_active_models(), what="the unload")
        assert registry(app).rows_by_role["primary-analyzer"].status == "empty"


async def test_arbitration_dialog_records_the_choice(app):
    def proposal(short: str, role: str, text: str) -> LLMMessage:
        return LLMMessage(short_id=short, from_role=role, content=text,
                          message_type=MessageType.PROPOSAL, confidence=0.7)

    a = proposal("m1", "primary-analyzer", "extract a custom hook")
    b = proposal("m2", "architecture-critic", "profile first")
    state = ConsensusState(score=0.5, tied=True, total_weight=2.0, candidates=[
        Candidate(a, 1.0, ["primary-analyzer"]), Candidate(b, 1.0, ["architecture-critic"])])
    async with app.run_test(size=(80, 24)) as pilot:
        decisions = []

        async def ask() -> None:
            decisions.append(await app.runner.ask(state, "tie after round 4"))

        app.run_worker(ask())
        await wait_for(pilot, lambda: isinstance(app.screen, ArbitrationScreen),
                       what="the arbitration dialog")
        await pilot.pause()
        shown = str(app.screen.query_one("#proposal-text").render())
        assert "extract a custom hook" in shown
        await pilot.press("down")
        assert "profile first" in str(app.screen.query_one("#proposal-text").render())
        await pilot.press("enter")
        await wait_for(pilot, lambda: bool(decisions), what="the decision")
        assert decisions[0].choice_id == b.id and decisions[0].decided_by == "human"


async def test_keymap_from_config_remaps_a_binding(fake_engine, fake_config):
    fake_config.keymap = {"help": "ctrl+y"}
    app = LogoMeshApp(fake_engine, config=fake_config, offer_pull=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f1")
        assert not isinstance(app.screen, HelpScreen)
        await pilot.press("ctrl+y")
        assert isinstance(app.screen, HelpScreen)
        assert ("ctrl+y", "help", "Help") in app.key_table()
        first = app.screen
        assert ("ctrl+y", "help", "Help") in first.keys
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)
        # The help screen is kept between opens (its layout is the slow part of opening it).
        await pilot.press("ctrl+y")
        assert app.screen is first
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)


async def test_every_binding_has_an_id_and_an_ssh_safe_key():
    ssh_safe = {f"f{i}" for i in range(1, 11)}
    for binding in LogoMeshApp.BINDINGS:
        assert binding.id, binding
        for key in binding.key.split(","):
            assert (key in ssh_safe or key.startswith("ctrl+") or len(key) == 1
                    or key in ("space", "colon")), key


async def test_first_run_offers_to_pull_the_default_pool(fake_engine, fake_config, monkeypatch):
    for f in fake_config.models_dir.glob("*.gguf"):
        f.unlink()
    pulled = []

    def fake_pull(catalog, name, progress=None, force=False):
        total = 1000
        for done in (250, 500, 1000):
            progress(done, total, "downloading")
        (catalog.models_dir / f"{name}.gguf").write_bytes(b"GGUF")
        pulled.append(name)
        return catalog.models_dir / f"{name}.gguf"

    monkeypatch.setattr("logomesh_tui.catalog.pull", fake_pull)
    app = LogoMeshApp(fake_engine, config=fake_config, offer_pull=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: type(app.screen).__name__ == "PullScreen",
                       what="the pull offer")
        await pilot.pause()
        assert "No models on disk" in str(app.screen.query_one(".dialog-title").render())
        await pilot.press("y")
        await wait_for(pilot, lambda: type(app.screen).__name__ != "PullScreen", timeout=10,
                       what="the pull to finish")
        assert sorted(pulled) == sorted(["smollm2-135m", "gemma-3-270m", "qwen2.5-coder-0.5b",
                                         "qwen2.5-coder-1.5b"])
        assert len(app.model_names()) == 4


async def test_open_session_replays_into_timeline(app):
    async with app.run_test(size=(100, 30)) as pilot:
        await load_by_keys(pilot, "primary-analyzer", "smollm2-135m")
        await start_by_keys(pilot, "Check it", protocol="round-robin")
        await wait_for(pilot, lambda: app.conversation_state == "finished", timeout=20,
                       what="the conversation to finish")
        live = [e.content for e in app.query_one(TimelinePane).entries if e.kind == "message"]
        session_id = app.controller.session_id

        app.query_one(TimelinePane).clear_entries()
        await pilot.press("f10")
        await wait_for(pilot, lambda: session_id in [v for v, _ in app.screen.options],
                       what="the sessions list (read in a worker)")
        await pick(pilot, session_id)
        await wait_for(pilot, lambda: app.conversation_state == "opened", what="the replay")
        await pilot.pause()
        replayed = [e.content for e in app.query_one(TimelinePane).entries if e.kind == "message"]
        assert replayed == live


async def test_timeline_enter_opens_message_and_jumps_to_reference(app):
    async with app.run_test(size=(100, 30)) as pilot:
        await load_by_keys(pilot, "primary-analyzer", "smollm2-135m")
        await load_by_keys(pilot, "architecture-critic", "gemma-3-270m")
        await start_by_keys(pilot, "Check it")
        await wait_for(pilot, lambda: app.conversation_state == "finished", timeout=20,
                       what="the conversation to finish")
        timeline = app.query_one(TimelinePane)
        entries = timeline.entries
        citing = next(i for i, e in enumerate(entries) if e.kind == "message" and e.references)
        timeline.focus()
        timeline.index = citing
        await pilot.press("enter")
        await pilot.pause()
        assert type(app.screen).__name__ == "MessageDetailScreen"
        target = entries[citing].references[0]
        await pilot.press("enter")
        await pilot.pause()
        assert timeline.highlighted_child is timeline.items_by_key[target]


async def test_light_theme_and_80x24_layout(app):
    async with app.run_test(size=(80, 24)) as pilot:
        for pane in ("#registry", "#timeline", "#metrics", "#command"):
            region = app.query_one(pane).region
            assert region.width > 20 and region.height >= 3, pane
            assert region.right <= 80 and region.bottom <= 24, pane
        await pilot.press("ctrl+t")
        assert app.theme == "textual-light"
        await pilot.press("ctrl+t")
        assert app.theme == "textual-dark"


async def test_keys_answer_while_models_generate(app, fake_engine):
    from .scripted import fake_factory

    fake_engine.backend_factory = fake_factory(token_delay_s=0.02)
    async with app.run_test(size=(100, 30)) as pilot:
        for role, model in [("primary-analyzer", "smollm2-135m"),
                            ("architecture-critic", "gemma-3-270m"),
                            ("optimization-specialist", "qwen2.5-coder-0.5b"),
                            ("documentation-writer", "qwen2.5-coder-1.5b")]:
            await load_by_keys(pilot, role, model)
        await start_by_keys(pilot, "Go")
        await wait_for(pilot, lambda: sum(r.status == "busy" for r in
                                          registry(app).rows_by_role.values()) >= 2,
                       what="two models generating")
        # Pilot.press waits for an idle app, which a streaming dashboard never is; post the
        # keys as the terminal would. Both are answered while the conversation still runs.
        app.post_message(events.Key("f1", None))
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen), what="the help screen")
        assert app.conversation_state == "running"
        app.post_message(events.Key("escape", None))
        await wait_for(pilot, lambda: not isinstance(app.screen, HelpScreen),
                       what="the help screen to close")
        assert app.conversation_state == "running"
        await pilot.press("f7")
        await wait_for(pilot, lambda: app.conversation_state == "stopped", what="stopped")
        assert isinstance(app.query_one(CommandPane), CommandPane)


async def test_pin_and_unload_act_on_the_highlighted_role(app):
    async with app.run_test(size=(100, 30)) as pilot:
        await load_by_keys(pilot, "primary-analyzer", "smollm2-135m")
        await load_by_keys(pilot, "architecture-critic", "gemma-3-270m")
        table = registry(app)
        table.focus()
        table.move_cursor(row=1)
        assert table.highlighted_role == "architecture-critic"
        await pilot.press("p")  # runs llm.registry.pin through the dispatcher, in a worker
        await wait_for(pilot, lambda: [m.role for m in app.engine.get_active_models()
                                       if m.pinned] == ["architecture-critic"], what="the pin")
        await wait_for(pilot, lambda: "●" in str(table.get_row("architecture-critic")[-1]),
                       what="the pin mark")
        assert "pinned architecture-critic" in result_line(app)
        await pilot.press("p")
        await wait_for(pilot, lambda: not any(m.pinned for m in app.engine.get_active_models()),
                       what="the unpin")

        await pilot.press("f3")
        screen = app.screen
        assert isinstance(screen, PickScreen)
        assert [v for v, _ in screen.options] == ["primary-analyzer", "architecture-critic"]
        await pilot.press("enter")  # the highlighted role is preselected
        await wait_for(pilot, lambda: [m.role for m in app.engine.get_active_models()]
                       == ["primary-analyzer"], what="the unload")
        assert table.rows_by_role["architecture-critic"].status == "empty"


async def test_a_long_stream_shows_its_newest_words(app):
    async with app.run_test(size=(80, 24)) as pilot:
        timeline = app.query_one(TimelinePane)
        timeline.start_turn("t1", "primary-analyzer", "smollm2-135m")
        timeline.stream("t1", '{"message_type": "proposal", "content": "')
        for i in range(200):
            timeline.stream("t1", f"word{i} ")
        await pilot.pause(0.2)
        shown = timeline.items_by_key["t1"].render_entry().plain
        assert "word199" in shown and "word0 " not in shown


async def test_a_tie_opens_the_arbitration_dialog_and_the_choice_is_recorded(app, fake_engine):
    from .scripted import fake_factory

    # The disagreeing responder votes by the model name's character sum: smollm2-135m and
    # qwen2.5-coder-0.5b pick different proposals, so the vote ties.
    fake_engine.backend_factory = fake_factory(disagree=True)
    async with app.run_test(size=(100, 30)) as pilot:
        await load_by_keys(pilot, "primary-analyzer", "smollm2-135m")
        await load_by_keys(pilot, "architecture-critic", "qwen2.5-coder-0.5b")
        await start_by_keys(pilot, "Pick one")
        await wait_for(pilot, lambda: isinstance(app.screen, ArbitrationScreen), timeout=20,
                       what="the arbitration dialog", detail=lambda: app.conversation_state)
        await pilot.pause()
        screen = app.screen
        assert len(screen.proposals) >= 2
        assert all(p.votes_for > 0 for p in screen.proposals[:2]), "votes are shown"
        chosen = screen.proposals[1]
        await pilot.press("down", "enter")
        await wait_for(pilot, lambda: app.conversation_state == "finished", timeout=20,
                       what="the end")
        events = SessionStore(app.config.sessions_dir).read(app.controller.session_id).events
        arbitration = [e for e in events if e.kind == "arbitration"]
        assert arbitration and arbitration[0].choice_id == chosen.id
        assert arbitration[0].decided_by == "human"
        assert any(e.kind == "event" and e.event_kind == "arbitration"
                   for e in app.query_one(TimelinePane).entries)


async def test_devshell_drives_the_same_conversation(app):
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("colon")
        await pilot.press(*'llm.registry.load("smollm2-135m", "primary-analyzer")', "enter")
        await wait_for(pilot, lambda: bool(app.engine.get_active_models()), what="the load")
        await pilot.press(*'conversation.start("Check it", protocol="round-robin")', "enter")
        await wait_for(pilot, lambda: app.conversation_state == "finished", timeout=20,
                       what="the conversation", detail=lambda: result_line(app))
        assert any(e.kind == "message" for e in app.query_one(TimelinePane).entries)
        session_id = app.controller.session_id
        await pilot.press(*f'session.open("{session_id}")', "enter")
        await wait_for(pilot, lambda: app.conversation_state == "opened", what="the replay")
        await pilot.press(*'conversation.export("shell-export", format="sharegpt")', "enter")
        await wait_for(pilot, lambda: "exported" in result_line(app), what="the export",
                       detail=lambda: result_line(app))


async def test_enter_on_a_registry_row_offers_that_roles_actions(app):
    async with app.run_test(size=(100, 30)) as pilot:
        table = registry(app)
        table.focus()
        table.move_cursor(row=2)
        await pilot.press("enter")
        await pick(pilot, "load")
        await pick(pilot, "qwen2.5-coder-0.5b")
        await wait_for(pilot, lambda: table.rows_by_role["optimization-specialist"].status
                       == "ready", what="the load")
        table.move_cursor(row=2)
        await pilot.press("enter")
        assert [v for v, _ in app.screen.options] == ["swap", "pin", "unload"]
        await pick(pilot, "swap")
        await pick(pilot, "smollm2-135m")
        await wait_for(pilot, lambda: table.rows_by_role["optimization-specialist"].model_id
                       == "smollm2-135m", what="the swap")


async def test_picking_a_model_not_on_disk_pulls_it_then_loads_it(app, fake_config,
                                                                  monkeypatch):
    (fake_config.models_dir / "qwen2.5-coder-1.5b.gguf").unlink()

    def fake_pull(catalog, name, progress=None, force=False):
        progress(10, 20, "downloading")
        path = catalog.models_dir / f"{name}.gguf"
        path.write_bytes(b"GGUF")
        progress(20, 20, "done")
        return path

    monkeypatch.setattr("logomesh_tui.catalog.pull", fake_pull)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("f2")
        await pick(pilot, "documentation-writer")
        await pick(pilot, "pull:qwen2.5-coder-1.5b")
        await wait_for(pilot, lambda: registry(app).rows_by_role["documentation-writer"].status
                       == "ready", what="pull, then load", detail=lambda: result_line(app))
        assert registry(app).rows_by_role["documentation-writer"].model_id == \
            "qwen2.5-coder-1.5b"
        assert "qwen2.5-coder-1.5b" in app.model_names()


async def test_refresh_timer_firing_during_shutdown_does_not_crash(fake_engine, fake_config):
    """The registry refresh runs on an interval timer, its own task: it can fire after shutdown
    has begun removing the panes. Quitting must not raise from that timer (a CI run failed on
    it once). A 1 ms interval makes the overlap likely on every one of the quits."""
    await fake_engine.load_model("smollm2-135m", "primary-analyzer")
    for _ in range(15):
        app = LogoMeshApp(fake_engine, config=fake_config, offer_pull=False, refresh_s=0.001)
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause(0.01)
        assert app.return_code in (0, None)


async def test_the_sessions_list_is_read_off_the_ui_thread(app, monkeypatch):
    import threading

    threads = []
    real_list = SessionStore.list

    def spy(self):
        threads.append(threading.current_thread())
        return real_list(self)

    monkeypatch.setattr(SessionStore, "list", spy)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("f10")
        await wait_for(pilot, lambda: bool(threads), what="the sessions folder read")
        await pilot.pause()
        assert threads and all(t is not threading.main_thread() for t in threads)
        # Completion of session ids lists file names only.
        assert app.vocabulary('session.open("').sessions == []
        await pilot.press("escape")


async def test_keys_and_palette_take_the_command_pane_route(app):
    ran: list[str] = []
    real_run = app.dispatcher.run

    async def spy(text, on_output=None):
        ran.append(text)
        return await real_run(text, on_output=on_output)

    app.dispatcher.run = spy
    async with app.run_test(size=(100, 30)) as pilot:
        await load_by_keys(pilot, "primary-analyzer", "smollm2-135m")
        assert ran == ['llm.registry.load("smollm2-135m", "primary-analyzer")']
        provider = PaletteActions(app.screen)
        swap = next(cb for name, cb, _ in provider._entries()
                    if name == "Hot-swap primary-analyzer to gemma-3-270m")
        swap()
        await wait_for(pilot, lambda: registry(app).rows_by_role["primary-analyzer"].model_id
                       == "gemma-3-270m", what="the swap")
        assert ran[-1] == 'llm.registry.hotswap("primary-analyzer", "gemma-3-270m")'
        # The reply is the dispatcher's, whichever way the command came.
        await wait_for(pilot, lambda: "swapped primary-analyzer: smollm2-135m -> gemma-3-270m"
                       in result_line(app), what="the swap's reply")


async def test_a_prompt_that_names_a_folder_with_at_gives_the_models_its_scope(
        app, monkeypatch, tmp_path):
    from pathlib import Path

    fixture = Path(__file__).resolve().parents[1] / "fixtures" / "ts-project"
    monkeypatch.chdir(fixture)
    async with app.run_test(size=(100, 30)) as pilot:
        await load_by_keys(pilot, "primary-analyzer", "smollm2-135m")
        await start_by_keys(pilot, "Review @src/cart for clarity")
        session = app.runner.session
        assert session is not None
        assert list(session.input_files) == ["src/cart/index.ts", "src/cart/total.ts",
                                             "src/cart/__tests__/total.test.ts"]
        # The outline (files, imports, tests) is part of what every role is told.
        assert "imports @/lib/money -> src/lib/money.ts (outside the scope)" in session.prompt
        assert "FILE src/cart/total.ts:" in session.task_text()
