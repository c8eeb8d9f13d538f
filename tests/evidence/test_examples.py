"""Examples a task states become asserting probes, written by a program: what is read as an
example and what is not, and the engine judging the greedy answer on them (real tsc and node)."""

from __future__ import annotations

import shutil

import pytest

from logomesh_tui.codepipe.executors import TokenLedger
from logomesh_tui.evidence.engine import EngineConfig, EvidenceEngine
from logomesh_tui.evidence.examples import example_probes, literal_kind, stated_examples
from logomesh_tui.evidence.rates import Plan
from logomesh_tui.evidence.types import CodeTask
from logomesh_tui.evidence.verifier import Verifier, VerifierConfig
from logomesh_tui.pool.fake import FakeBackend

ONE = "export function shout(text: string): string {\n  return text;\n}\n"
TWO = ("export function pack(text: string): string {\n  return text;\n}\n"
       "export function unpack(text: string): string {\n  return text;\n}\n")


def found(instruction: str, source: str = ONE) -> list[tuple[str, str, str]]:
    return [(e.function, e.args, e.expected) for e in stated_examples(instruction, source)]


def test_arrows_gives_and_calls_are_read_as_examples():
    assert found('Examples: `"hi"` → `"HI!"`, `""` gives `""`.') == [
        ("shout", '"hi"', '"HI!"'), ("shout", '""', '""')]
    assert found('- `shout("a b")` -> `"A B!"`') == [("shout", '"a b"', '"A B!"')]
    source = "export function area(w: number, h: number): number {\n  return 0;\n}\n"
    assert found("`area(2, 3)` → 6. Also 7 → 7.", source) == [("area", "2, 3", "6")]


def test_wording_that_is_not_an_example_is_left_alone():
    # A count in words before the input, "is" rather than an arrow, a bare number before
    # "returns", a value that is not a literal, and an expected kind the return type rules out.
    assert found('ten thousand times `"a"` → `"A!"`') == []
    assert found('`"a"` is `"A!"`') == []
    assert found("rendering 1, 2 returns `undefined`") == []
    assert found('`"a"` → `x`; `text` → `"A!"`') == []
    assert found('`"a"` → 3') == []  # shout returns a string


def test_the_function_comes_from_the_sentence_when_a_file_exports_several():
    text = ('- `pack(text: string): string` packs: `"aab"` → `"a2b"`.\n'
            '- `unpack(text: string): string` is the inverse: `"a2b"` → `"aab"`.\n\n'
            'For both: `""` gives `""`.')  # which function: not said, so not read
    assert found(text, TWO) == [("pack", '"aab"', '"a2b"'), ("unpack", '"a2b"', '"aab"')]


def test_hooks_async_functions_and_missing_arguments_are_skipped():
    hook = "export function useCount(start: number): number {\n  return start;\n}\n"
    assert found("Examples: 3 → 3.", hook) == []
    slow = "export async function load(id: string): Promise<string> {\n  return id;\n}\n"
    assert found('Examples: `"a"` → `"a"`.', slow) == []
    two_args = "export function fit(text: string, width: number): string[] {\n  return [];\n}\n"
    assert found('Examples: `"a b"` → `["a", "b"]`.', two_args) == []


def test_literal_kinds():
    assert literal_kind('{ a: ["z"], "b": [], c: { d: -1.5 } }') == "object"
    assert literal_kind("[1, 'x', null, true]") == "array"
    assert literal_kind("undefined") == "null"
    assert literal_kind("items") is None
    assert literal_kind("[1, 2") is None
    assert literal_kind("f(1)") is None


# -- the engine, with a scripted coder and the real verifier ------------------------------------
needs_node = pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
TASK = CodeTask(
    instruction='Implement `shout(text)`: upper-case the text and add "!". '
                'Examples: `"hi"` → `"HI!"`, `"a b"` → `"A B!"`.',
    starter='export function shout(text: string): string {\n  throw new Error("todo");\n}\n')
RIGHT = "export function shout(text: string): string {\n  return text.toUpperCase() + \"!\";\n}\n"
WRONG = "export function shout(text: string): string {\n  return text + \"!\";\n}\n"


def scripted(by_temperature: dict[float, str]) -> FakeBackend:
    def responder(req, _backend):
        assert "careful tester" not in req.messages[0]["content"], "the tester was asked"
        return f"```ts\n{by_temperature.get(req.temperature, by_temperature[0.0])}```\n"
    return FakeBackend("scripted-coder-1.5b", n_ctx=8192, responder=responder)


def engine_for(fake: FakeBackend, **cfg) -> EvidenceEngine:
    return EvidenceEngine(executors={"coder": fake}, plan=Plan(primary="coder", tester="coder"),
                          verifier=Verifier(TASK, config=VerifierConfig(lint=False)),
                          config=EngineConfig(**cfg), ledger=TokenLedger())


@needs_node
async def test_a_greedy_answer_passing_the_stated_examples_is_the_only_call():
    fake = scripted({0.0: RIGHT})
    result = await engine_for(fake, samples=2).solve(TASK)
    assert fake.calls == 1 and len(result.candidates) == 1
    ev = result.evidence[result.candidates[0].id]
    assert ev.asserts_total == 2 and ev.asserts_passed == 2 and "greedy" in result.stopped
    assert [p.id for p in result.probes] == ["e1", "e2"]
    assert all(p.author == "verifier" for p in result.probes)


@needs_node
async def test_a_sample_passing_the_examples_beats_a_greedy_answer_failing_them():
    fake = scripted({0.0: WRONG, 0.7: RIGHT})
    result = await engine_for(fake, samples=1, repair_rounds=0).solve(TASK)
    assert result.chosen is not None and result.chosen.text == RIGHT
    wrong = result.evidence[result.candidates[0].id]
    assert wrong.asserts_passed == 0
    # The verifier's fact names the example and what came back, for a repair to work from.
    assert '"HI!"' in wrong.facts() and "got 'hi!'" in wrong.facts()


def test_probes_are_numbered_and_import_the_task_module():
    probes = example_probes(TASK)
    assert [p.id for p in probes] == ["e1", "e2"]
    assert all(f'from "{TASK.module}"' in p.code and "assert(" in p.code for p in probes)
