"""Facts a task states become asserting probes, written by a program: what the grammar reads,
what it leaves alone (old behaviour above all), and the engine judging answers on the facts
(real tsc and node)."""

from __future__ import annotations

import shutil

import pytest

from logomesh_tui.conversation.executors import TokenLedger
from logomesh_tui.evidence.engine import EvidenceConfig, EvidenceEngine
from logomesh_tui.evidence.examples import (
    example_probes,
    literal_kind,
    stated_examples,
    stated_throws,
    states_no_mutation,
)
from logomesh_tui.evidence.rates import Plan
from logomesh_tui.evidence.types import Candidate, CodeTask
from logomesh_tui.evidence.verifier import Verifier, VerifierConfig
from logomesh_tui.pool.fake import FakeBackend

ONE = "export function shout(text: string): string {\n  return text;\n}\n"
TWO = ("export function pack(text: string): string {\n  return text;\n}\n"
       "export function unpack(text: string): string {\n  return text;\n}\n")


def found(instruction: str, source: str = ONE) -> list[tuple[str, str, str]]:
    return [(e.function, e.args, e.expected) for e in stated_examples(instruction, source)]


HI = [("shout", '"hi"', '"HI!"')]


@pytest.mark.parametrize("text", [
    '`shout("hi")` -> `"HI!"`',
    '- `shout("hi")` → `"HI!"`',
    '`shout("hi")` => "HI!"',
    'shout("hi") returns "HI!"',
    'For example, `shout("hi")` returns `"HI!"`.',
    'Calling `shout("hi")` should return `"HI!"`, not `"hi"`.',
    '`shout("hi") === "HI!"`',
    '1. `shout("hi")` gives `"HI!"` (one exclamation mark).',
    'It is loud: `shout("hi")` evaluates to `"HI!"`; nothing else changes.',
    '```ts\nshout("hi") // => "HI!"\n```',
    '```ts\nshout("hi"); // returns "HI!"\n```',
    '/**\n * Shouts.\n * @example\n * shout("hi") // "HI!"\n */',
    ' * @example shout("hi") // => "HI!"',
])
def test_the_grammar_reads_its_forms(text):
    assert found(text) == HI


def test_several_facts_on_a_line_and_calls_of_several_parameters():
    assert found('Examples: `shout("a")` → `"A!"`, `shout("b")` → `"B!"` and '
                 '`shout("")` → `""`.') == [("shout", '"a"', '"A!"'), ("shout", '"b"', '"B!"'),
                                           ("shout", '""', '""')]
    source = "export function area(w: number, h: number): number {\n  return 0;\n}\n"
    assert found("`area(2, 3)` → 6. Also 7 → 7.", source) == [("area", "2, 3", "6")]
    assert found("area(2.5, 2) returns 5.", source) == [("area", "2.5, 2", "5")]
    # The function comes from the call, so a file with several exports is no problem.
    assert found('`unpack("a2b")` -> `"aab"`; `pack("aab")` -> `"a2b"`.', TWO) == [
        ("unpack", '"a2b"', '"aab"'), ("pack", '"aab"', '"a2b"')]


@pytest.mark.parametrize("text", [
    'Old behaviour, before this fix: `shout("hi")` -> `"hi"`',
    '- The code is wrong: `shout("hi")` → `"hi"`.',
    'It used to give `shout("hi")` → `"hi"`.',
    'Previously `shout("hi")` returned the text as is: `shout("hi")` -> `"hi"`.',
    'Currently `shout("hi")` returns `"hi"`.',
    'Because of a bug, `shout("hi")` returns `"hi"`.',
    '`shout("hi")` incorrectly returns `"hi"`.',
    'It returns `shout("hi")` → `"hi"` instead of `"HI!"`.',
    'Before the fix:\n\n- `shout("hi")` -> `"hi"`\n- `shout("a")` -> `"a"`',
    'What the old code did:\n```ts\nshout("hi") // => "hi"\n```',
    '## Old behaviour\n\n`shout("hi")` -> `"hi"`\n\n- `shout("a")` -> `"a"`',
    '```ts\n// before the fix\nshout("hi") // => "hi"\n```',
    '/**\n * The old behaviour.\n * @example\n * shout("hi") // "hi"\n */',
    '- Steps to reproduce the bug:\n  - `shout("hi")` -> `"hi"`',
])
def test_text_describing_old_behaviour_is_never_a_required_result(text):
    assert found(text) == []


def test_old_behaviour_beside_the_required_result_leaves_only_the_required_result():
    text = ('Old behaviour, before this fix: `shout("hi")` -> `"hi"`.\n\n'
            'Required:\n\n- `shout("hi")` -> `"HI!"`\n\n'
            '## Before\n\n`shout("a")` -> `"a"`\n\n## After\n\n'
            '```ts\n// before\nshout("b") // => "b"\n// now\nshout("c") // => "C!"\n```')
    assert found(text) == [("shout", '"hi"', '"HI!"'), ("shout", '"c"', '"C!"')]
    # "current" and "previous" describe algorithms, not old code.
    assert found('- A long word starts the current line: `shout("hi")` -> `"HI!"`.') == HI


def test_wording_outside_the_grammar_is_left_alone():
    assert found('`"hi"` → `"HI!"`') == []  # no call: which function, with what, is a guess
    assert found('`shout("hi")` is `"HI!"`') == []  # "is" is no arrow
    assert found('`shout("hi")` returns `"HI!"` or `"HI"`') == []  # one of two
    assert found('`shout("hi")` returns `"HI!"` when loud') == []  # a condition
    assert found('`shout("hi")` does not return `"hi"`') == []
    assert found('`shout(text)` → `"HI!"`') == []  # an argument that is not a literal
    assert found('`shout("hi")` → `x`') == []  # a value that is not a literal
    assert found('`shout("hi")` → 3') == []  # shout returns a string
    assert found('```ts\nshout("hi") // "HI!"\n```') == []  # no arrow outside @example
    assert found('`loud.shout("hi")` → `"HI!"`') == []  # a method of something else


def test_hooks_async_functions_and_missing_arguments_are_skipped():
    hook = "export function useCount(start: number): number {\n  return start;\n}\n"
    assert found("`useCount(3)` → 3.", hook) == []
    slow = "export async function load(id: string): Promise<string> {\n  return id;\n}\n"
    assert found('`load("a")` → `"a"`.', slow) == []
    two_args = "export function fit(text: string, width: number): string[] {\n  return [];\n}\n"
    assert found('`fit("a b")` → `["a", "b"]`.', two_args) == []
    assert found('`fit("a b", 1)` → `["a", "b"]`.', two_args) == [("fit", '"a b", 1', '["a", "b"]')]


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
                'Examples: `shout("hi")` → `"HI!"`, `shout("a b")` → `"A B!"`.',
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
                          config=EvidenceConfig(**cfg), ledger=TokenLedger())


@needs_node
@pytest.mark.toolchain
async def test_a_greedy_answer_passing_the_stated_examples_is_the_only_call():
    fake = scripted({0.0: RIGHT})
    result = await engine_for(fake, samples=2).solve(TASK)
    assert fake.calls == 1 and len(result.candidates) == 1
    ev = result.evidence[result.candidates[0].id]
    assert ev.asserts_total == 2 and ev.asserts_passed == 2 and "greedy" in result.stopped
    assert [p.id for p in result.probes] == ["e1", "e2"]
    assert all(p.author == "verifier" for p in result.probes)


@needs_node
@pytest.mark.toolchain
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


# -- inputs stated to throw, and inputs that must not change ------------------------------------
SIZE = "export function parseSize(text: string): number {\n  return 0;\n}\n"


def throws(instruction: str, source: str = SIZE) -> list[tuple[str, str, str]]:
    return [(t.function, t.args, t.error) for t in stated_throws(instruction, source)]


def test_calls_stated_to_throw_are_read():
    assert throws('- `parseSize("")` throws an `Error`.') == [("parseSize", '""', "Error")]
    assert throws('`parseSize("12q")` throws a `RangeError`.') == [
        ("parseSize", '"12q"', "RangeError")]
    assert throws('parseSize("x") throws.') == [("parseSize", '"x"', "Error")]
    assert throws('`parseSize("x")` should throw an error.') == [("parseSize", '"x"', "Error")]
    assert throws('`parseSize("x")` -> throws `TypeError`') == [("parseSize", '"x"', "TypeError")]
    assert throws('```ts\nparseSize("-1") // throws RangeError\n```') == [
        ("parseSize", '"-1"', "RangeError")]
    source = "export function fit(text: string, width: number): string[] {\n  return [];\n}\n"
    assert throws('`fit("a", 0)` throws a `RangeError`.', source) == [("fit", '"a", 0', "RangeError")]


def test_wording_that_does_not_say_which_call_throws_is_left_alone():
    assert throws("It never throws an `Error` for `\"1\"`.") == []
    assert throws('`parseSize("1")` never throws.') == []
    assert throws('`"1x"` throws an `Error`.') == []  # no call
    assert throws('`parseSize("1x")` throws a `RangeError` when strict.') == []  # a condition
    assert throws('Previously `parseSize("1")` threw; `parseSize("")` throws `Error`.') == []
    assert throws('`parseSize(text)` throws an `Error`.') == []


def test_no_mutation_wording():
    for text in ("Do not change the caller's array in any way.", "It never mutates its input.",
                 "`obj` is not modified.", "Update an item without mutation.",
                 "Never modify `items`."):
        assert states_no_mutation(text), text
    for text in ("`invoiceText`, whose output must not change.", "Sort the list.",
                 "Return a new array.", "It does not throw.",
                 "Previously it did not change the caller's array."):
        assert not states_no_mutation(text), text


def test_probes_for_throws_and_kept_inputs():
    task = CodeTask(instruction="Implement `median(values)`. Do not change the caller's array. "
                                "`median([3, 1, 2])` → 2. `median([])` throws a `RangeError`.",
                    starter="export function median(values: number[]): number {\n  return 0;\n}\n")
    probes = example_probes(task)
    assert [p.id for p in probes] == ["e1", "t1"]
    assert "__clone(args)" in probes[0].code and "median([3, 1, 2])" in probes[0].code
    assert "__isError(error, \"RangeError\")" in probes[1].code and "fn([])" in probes[1].code


MEDIAN = CodeTask(
    instruction="Fix `median(values: number[]): number`. Do not change the caller's array. "
                "Examples: `median([3, 1, 2])` → 2, `median([4, 1, 3, 2])` → 2.5. "
                "`median([])` throws a `RangeError`.",
    starter="export function median(values: number[]): number {\n  return values[0];\n}\n")
SORTS = ("export function median(values: number[]): number {\n"
         "  if (values.length === 0) throw new RangeError(\"empty\");\n"
         "  const v = values.sort((a, b) => a - b);\n  const m = v.length >> 1;\n"
         "  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;\n}\n")
COPIES = SORTS.replace("values.sort(", "[...values].sort(")
RETURNS_NAN = COPIES.replace('  if (values.length === 0) throw new RangeError("empty");\n', "")


@needs_node
@pytest.mark.toolchain
async def test_the_verifier_sees_a_changed_input_and_a_missing_throw():
    verifier = Verifier(MEDIAN, config=VerifierConfig(lint=False))
    probes = example_probes(MEDIAN)
    cands = [Candidate(id=f"C{i}", text=t, author="coder", origin="sample")
             for i, t in enumerate((SORTS, COPIES, RETURNS_NAN), start=1)]
    ev = await verifier.verify(cands, probes)
    assert (ev["C2"].asserts_passed, ev["C2"].asserts_total) == (3, 3) and ev["C2"].passes_all
    assert ev["C1"].asserts_passed == 1  # the right values, but the examples' arrays got sorted
    assert "changed them to [ 1, 2, 3 ]" in ev["C1"].facts()
    assert ev["C3"].asserts_passed == 2
    assert "median([]) throws a RangeError, it returns NaN" in ev["C3"].facts()
    # Behaviour differs, so the three are told apart (not one group).
    assert len({ev[c].signature for c in ("C1", "C2", "C3")}) == 3


@needs_node
@pytest.mark.toolchain
async def test_one_passing_example_is_not_enough_to_stop():
    task = CodeTask(instruction='Implement `shout(text)`: upper-case and add "!". '
                                'Example: `shout("hi")` → `"HI!"`.', starter=TASK.starter)
    fake = scripted({0.0: RIGHT})
    engine = EvidenceEngine(executors={"coder": fake}, plan=Plan(primary="coder", tester="coder"),
                            verifier=Verifier(task, config=VerifierConfig(lint=False)),
                            config=EvidenceConfig(samples=1, repair_rounds=0, other_framings=()),
                            ledger=TokenLedger())
    result = await engine.solve(task)
    assert fake.calls == 2 and "greedy" not in result.stopped
    assert result.chosen is not None and result.chosen.text == RIGHT
