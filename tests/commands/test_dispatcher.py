"""The dispatcher against the real HotSwapEngine (fake backends) and a recording controller."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from logomesh_tui.commands import (
    CommandContext,
    CommandResult,
    ConversationController,
    Dispatcher,
    Vocabulary,
    complete,
    signature_hint,
)
from logomesh_tui.config import EngineConfig
from logomesh_tui.errors import LogoMeshError
from logomesh_tui.pool.engine import HotSwapEngine
from logomesh_tui.pool.fake import FakeBackend

MODELS = ["smollm2-135m", "gemma-3-270m", "qwen2.5-coder-0.5b", "qwen2.5-coder-1.5b"]


class RecordingController:
    """A ConversationController that records calls; sync and async methods mixed on purpose."""

    def __init__(self) -> None:
        self.calls: list[tuple] = []

    async def start(self, prompt, protocol="four-round", *, max_rounds=None, roles=None,
                    files=None, arbitration=None):
        self.calls.append(("start", prompt, protocol, max_rounds, roles, files, arbitration))
        return f"started {protocol}"

    def pause(self):
        self.calls.append(("pause",))

    def resume(self):
        self.calls.append(("resume",))

    async def stop(self):
        self.calls.append(("stop",))
        return "stopped"

    def export(self, name, format):
        self.calls.append(("export", name, format))
        if name == "boom":
            raise LogoMeshError("disk full")
        return f"exported {name} as {format}"

    def open_session(self, session_id):
        self.calls.append(("open", session_id))


@pytest.fixture
async def engine():
    eng = HotSwapEngine(EngineConfig(memory_budget=10_000_000_000),
                        backend_factory=lambda model_id, config: FakeBackend(model_id))
    yield eng
    await eng.close()


@pytest.fixture
def controller():
    return RecordingController()


@pytest.fixture
def dispatcher(engine, controller):
    return Dispatcher(CommandContext(engine=engine, conversation=controller,
                                     model_names=lambda: MODELS,
                                     session_names=["20261125-120000-abc123"]))


def test_recording_controller_satisfies_the_protocol(controller):
    assert isinstance(controller, ConversationController)


async def test_the_seed_bootstrap_and_hotswap(dispatcher, engine):
    for model, role in [("qwen2.5-coder-1.5b", "primary-analyzer"),
                        ("qwen2.5-coder-0.5b", "architecture-critic"),
                        ("gemma-3-270m", "optimization-specialist"),
                        ("smollm2-135m", "documentation-writer")]:
        r = await dispatcher.run(f'llm.registry.load("{model}", "{role}")')
        assert r.ok, r.error
        assert r.lines[0].startswith(f"loaded {model} as {role}")
    assert sorted(engine.roles()) == sorted(["primary-analyzer", "architecture-critic",
                                             "optimization-specialist",
                                             "documentation-writer"])
    r = await dispatcher.run('llm.registry.hotswap("documentation-writer", "gemma-3-270m")')
    assert r.ok and r.lines[0].startswith("swapped documentation-writer: smollm2-135m -> "
                                          "gemma-3-270m")
    assert engine.executor("documentation-writer").model_id == "gemma-3-270m"
    r = await dispatcher.run("llm.registry.list()")
    assert r.ok and r.lines[0].split() == ["ROLE", "MODEL", "STATUS", "MEMORY", "TOK/S", "LAST"]
    assert any("documentation-writer" in line and "gemma-3-270m" in line for line in r.lines)
    r = await dispatcher.run('llm.registry.pin("primary-analyzer"); llm.registry.list()')
    assert r.ok and r.lines[0] == "pinned primary-analyzer"
    assert any(line.startswith("primary-analyzer") and "pinned" in line for line in r.lines)
    r = await dispatcher.run('llm.registry.pin("primary-analyzer", false)')
    assert r.lines == ["unpinned primary-analyzer"]
    r = await dispatcher.run("llm.registry.memory()")
    assert r.ok and r.lines[-1].startswith("total ")
    r = await dispatcher.run('llm.registry.unload("architecture-critic")')
    assert r.ok and "architecture-critic" not in engine.roles()


async def test_errors_are_results_not_exceptions(dispatcher, engine):
    await dispatcher.run('llm.registry.load("smollm2-135m", "primary-analyzer")')
    r = await dispatcher.run('llm.registry.hotswap("critic", "gemma-3-270m")')
    assert not r.ok and "no role 'critic' is loaded; loaded roles: primary-analyzer" in r.error
    assert r.detail.splitlines()[1].index("^") == len("llm.registry.hotswap(")
    r = await dispatcher.run('llm.registry.load("llama-99b", "x")')
    assert not r.ok and "known: smollm2-135m" in r.error
    r = await dispatcher.run('llm.registry.load("smollm2-135m"')
    assert not r.ok and r.error.startswith("column ")
    # Stops at the first failure and keeps what ran before it.
    r = await dispatcher.run('llm.registry.list(); llm.registry.unload("ghost"); help()')
    assert not r.ok and r.commands == ["llm.registry.list", "llm.registry.unload"]
    assert r.lines and r.lines[0].startswith("ROLE")
    # An engine error (LogoMeshError) comes back as a one-line error naming the command.
    r = await dispatcher.run('conversation.export("boom")')
    assert not r.ok and r.error == "conversation.export: disk full"


async def test_engine_failure_on_load_is_reported(controller):
    def factory(model_id, config):
        return FakeBackend(model_id, fail_on_load=f"{model_id}: not a GGUF file")

    eng = HotSwapEngine(EngineConfig(memory_budget=10_000_000_000), backend_factory=factory)
    try:
        d = Dispatcher(CommandContext(engine=eng, conversation=controller))
        r = await d.run('llm.registry.load("smollm2-135m", "primary-analyzer")')
        assert not r.ok and "not a GGUF file" in r.error and "\n" not in r.error
    finally:
        await eng.close()


async def test_conversation_commands_reach_the_controller(dispatcher, engine, controller):
    await dispatcher.run('llm.registry.load("smollm2-135m", "primary-analyzer")')
    r = await dispatcher.run('conversation.start("Analyse it", protocol="debate", max_rounds=2, '
                             'roles=["primary-analyzer"], arbitration="first")')
    assert r.ok and r.lines == ["started debate"]
    r = await dispatcher.run("conversation.pause(); conversation.resume(); conversation.stop()")
    assert r.lines == ["conversation paused", "conversation resumed", "stopped"]
    r = await dispatcher.run('conversation.export("multi-model-refactor-session", '
                             'format="training-data")')
    assert r.lines == ["exported multi-model-refactor-session as training-data"]
    r = await dispatcher.run('session.open("20261125")')
    assert r.lines == ["opened session 20261125"]
    assert controller.calls == [
        ("start", "Analyse it", "debate", 2, ["primary-analyzer"], None, "first"),
        ("pause",), ("resume",), ("stop",),
        ("export", "multi-model-refactor-session", "training-data"),
        ("open", "20261125"),
    ]


async def test_contexts_without_parts_say_so():
    d = Dispatcher(CommandContext())
    r = await d.run("llm.registry.list()")
    assert not r.ok and "no model pool" in r.error
    r = await d.run("conversation.pause()")
    assert not r.ok and "no conversation controller" in r.error
    r = await d.run("llm.registry.models()")
    assert not r.ok and "no model catalog" in r.error
    r = await d.run("help()")
    assert r.ok and any(line.startswith("llm.registry.load()") for line in r.lines)
    r = await d.run('help("llm.registry.hotswap")')
    assert r.lines[0] == "llm.registry.hotswap(role: str, model_id: str)"


async def test_dispatcher_completes_with_the_live_roles(dispatcher):
    await dispatcher.run('llm.registry.load("smollm2-135m", "primary-analyzer")')
    assert dispatcher.complete('llm.registry.unload("') == [
        'llm.registry.unload("primary-analyzer"']
    assert dispatcher.complete('session.open("2026') == ['session.open("20261125-120000-abc123"']


async def test_check_binds_without_running(dispatcher, engine):
    bound = dispatcher.check('llm.registry.load("smollm2-135m", "r"); help()')
    assert [b.name for b in bound] == ["llm.registry.load", "help"]
    assert engine.roles() == []


async def test_code_never_runs_through_the_dispatcher(dispatcher, tmp_path):
    marker = tmp_path / "pwned"
    r = await dispatcher.run(f"__import__('os').system('touch {marker}')")
    assert not r.ok and not marker.exists()
    r = await dispatcher.run(f'help(__import__("os").system("touch {marker}"))')
    assert not r.ok and not marker.exists()


def test_completion_of_names_roles_models_and_keywords():
    vocab = Vocabulary(roles=["documentation-writer", "primary-analyzer"], models=MODELS)
    assert complete("llm.registry.h") == ["llm.registry.hotswap("]
    assert "llm.registry.list()" in complete("llm.re")
    assert complete("conversation.") == [
        "conversation.start(", "conversation.pause()", "conversation.resume()",
        "conversation.stop()", "conversation.export("]
    assert complete('llm.registry.hotswap("doc', vocab) == [
        'llm.registry.hotswap("documentation-writer"']
    assert complete('llm.registry.hotswap(', vocab) == [
        'llm.registry.hotswap("documentation-writer"', 'llm.registry.hotswap("primary-analyzer"']
    assert complete('llm.registry.hotswap("documentation-writer", "sm', vocab) == [
        'llm.registry.hotswap("documentation-writer", "smollm2-135m"']
    assert complete('llm.registry.load(', vocab)[0] == 'llm.registry.load("smollm2-135m"'
    # A new role: the seed's roles not loaded yet come first.
    assert complete('llm.registry.load("smollm2-135m", ', vocab)[:2] == [
        'llm.registry.load("smollm2-135m", "architecture-critic"',
        'llm.registry.load("smollm2-135m", "optimization-specialist"']
    assert complete('conversation.start("x", protocol="d') == [
        'conversation.start("x", protocol="debate"']
    assert 'conversation.start("x", max_rounds=' in complete('conversation.start("x", ')
    assert complete('conversation.export("n", format="s') == [
        'conversation.export("n", format="sharegpt"']
    assert complete("llm.registry.list(") == ["llm.registry.list()"]
    assert complete("nonsense(") == [] and complete('help("x")') == []
    assert signature_hint('llm.registry.hotswap("a"') == \
        "llm.registry.hotswap(role: str, model_id: str)"
    assert signature_hint("zzz") is None


@pytest.mark.parametrize("line", ["", "(", '"', 'help("', "llm.registry.load(\"a\", [",
                                  'conversation.start(x=', "))", "a.b.c(d=[[[", "\\"])
def test_completion_never_raises(line):
    assert isinstance(complete(line, Vocabulary(roles=["r"], models=["m"])), list)


@given(st.one_of(st.text(max_size=80), st.sampled_from([
    'llm.registry.load("smollm2-135m", "r")', "llm.registry.list()", "help()",
    'conversation.export("../../x", format="dpo")', 'session.open("../../etc/passwd")',
    "conversation.start('x', files=['/etc/shadow'])",
]).flatmap(lambda base: st.integers(0, len(base)).map(lambda cut: base[:cut]))))
@settings(max_examples=400, deadline=None)
def test_fuzz_dispatcher_always_returns_a_result(text):
    controller = RecordingController()
    result = asyncio.run(Dispatcher(CommandContext(
        conversation=controller, model_names=MODELS)).run(text))
    assert isinstance(result, CommandResult)
    if not result.ok:
        assert result.error and "\n" not in result.error
