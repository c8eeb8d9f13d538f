"""Examples a task states become asserting probes, written by a program: what is read as an
example and what is not, and the engine judging the greedy answer on them (real tsc and node)."""

from __future__ import annotations

import shutil

import pytest

from logomesh_tui.codepipe.executors import TokenLedger
from logomesh_tui.evidence.engine import EngineConfig, EvidenceEngine
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


def test_raw_text_after_the_line_and_empty_inputs_in_words_are_read():
    split = "export function cells(line: string): string[] {\n  return [line];\n}\n"
    text = ('Lines are shown raw. The line `a,b,,c` gives `["a", "b", "", "c"]`; an empty line '
            'gives `[""]`; the line `"x,y",z` gives `["x,y", "z"]`.')
    assert found(text, split) == [("cells", '"a,b,,c"', '["a", "b", "", "c"]'),
                                  ("cells", '"\\"x,y\\",z"', '["x,y", "z"]'),
                                  ("cells", '""', '[""]')]
    # Raw text with no noun saying it is one string, or for a function that takes a number,
    # or a count in words before "empty": not read.
    assert found('Then `a,b` gives `["a", "b"]`.', split) == []
    digits = "export function digits(n: number): string[] {\n  return [];\n}\n"
    assert found('The input `1 2` gives `["1", "2"]`; an empty string gives `[]`.', digits) == []
    assert found('ten empty lines give `[""]`', split) == []
    total = "export function total(prices: readonly string[]): number {\n  return 1;\n}\n"
    assert found("- An empty list gives 0.", total) == [("total", "[]", "0")]


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


# -- inputs stated to throw, and inputs that must not change ------------------------------------
SIZE = "export function parseSize(text: string): number {\n  return 0;\n}\n"


def throws(instruction: str, source: str = SIZE) -> list[tuple[str, str, str]]:
    return [(t.function, t.args, t.error) for t in stated_throws(instruction, source)]


def test_inputs_stated_to_throw_are_read():
    assert throws('- `""`, `"12q"` and `"-1"` throw an `Error`.') == [
        ("parseSize", '""', "Error"), ("parseSize", '"12q"', "Error"),
        ("parseSize", '"-1"', "Error")]
    # Spaces inside a literal are kept even when the sentence wraps.
    assert throws('- Anything else throws a `RangeError`: `"   "`,\n  `"1 k"`.') == [
        ("parseSize", '"   "', "RangeError"), ("parseSize", '"1 k"', "RangeError")]
    assert throws("- An empty string throws a `RangeError`.") == [("parseSize", '""', "RangeError")]
    source = "export function fit(text: string, width: number): string[] {\n  return [];\n}\n"
    assert throws('`fit("a", 0)` throws a `RangeError`.', source) == [("fit", '"a", 0', "RangeError")]
    number = "export function label(n: number): string {\n  return '';\n}\n"
    assert throws("`NaN`, `Infinity` and `-Infinity` throw a `RangeError`.", number) == [
        ("label", "NaN", "RangeError"), ("label", "Infinity", "RangeError"),
        ("label", "-Infinity", "RangeError")]


def test_wording_that_does_not_say_which_input_throws_is_left_alone():
    assert throws("It never throws an `Error` for `\"1\"`.") == []
    assert throws('If `text` is blank or `"0"`, throw a `RangeError`.') == []  # names a parameter
    assert throws('`"x"` is fine; an empty array throws an `Error`.') == []  # arrays: not a string
    assert throws("`12` throws an `Error`.") == []  # a number for a string parameter
    two = "export function fit(text: string, width: number): string[] {\n  return [];\n}\n"
    assert throws('`"a"` throws a `RangeError`.', two) == []  # which width: not said
    assert throws('`"1h"` is fine but `"1x"` throws an `Error`.') == []  # not one list
    assert throws('`"1h"` → 3600; anything else throws an `Error`.') == []


def test_inputs_listed_after_the_error_are_read():
    assert throws('Throw an `Error` for bad input, e.g. `"1.5h"` or `"h"`.') == [
        ("parseSize", '"1.5h"', "Error"), ("parseSize", '"h"', "Error")]


def test_no_mutation_wording():
    for text in ("Do not change the caller's array in any way.", "It never mutates its input.",
                 "`obj` is not modified.", "Update an item without mutation.",
                 "Never modify `items`."):
        assert states_no_mutation(text), text
    for text in ("`invoiceText`, whose output must not change.", "Sort the list.",
                 "Return a new array.", "It does not throw."):
        assert not states_no_mutation(text), text


def test_probes_for_throws_and_kept_inputs():
    task = CodeTask(instruction="Implement `median(values)`. Do not change the caller's array. "
                                "`[3, 1, 2]` → 2. An empty array throws a `RangeError`.",
                    starter="export function median(values: number[]): number {\n  return 0;\n}\n")
    probes = example_probes(task)
    assert [p.id for p in probes] == ["e1", "t1"]
    assert "__clone(args)" in probes[0].code and "median([3, 1, 2])" in probes[0].code
    assert "__isError(error, \"RangeError\")" in probes[1].code and "fn([])" in probes[1].code


MEDIAN = CodeTask(
    instruction="Fix `median(values: number[]): number`. Do not change the caller's array. "
                "Examples: `[3, 1, 2]` → 2, `[4, 1, 3, 2]` → 2.5. An empty array throws a "
                "`RangeError`.",
    starter="export function median(values: number[]): number {\n  return values[0];\n}\n")
SORTS = ("export function median(values: number[]): number {\n"
         "  if (values.length === 0) throw new RangeError(\"empty\");\n"
         "  const v = values.sort((a, b) => a - b);\n  const m = v.length >> 1;\n"
         "  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;\n}\n")
COPIES = SORTS.replace("values.sort(", "[...values].sort(")
RETURNS_NAN = COPIES.replace('  if (values.length === 0) throw new RangeError("empty");\n', "")


@needs_node
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
async def test_one_passing_example_is_not_enough_to_stop():
    task = CodeTask(instruction='Implement `shout(text)`: upper-case and add "!". '
                                'Example: `"hi"` → `"HI!"`.', starter=TASK.starter)
    fake = scripted({0.0: RIGHT})
    engine = EvidenceEngine(executors={"coder": fake}, plan=Plan(primary="coder", tester="coder"),
                            verifier=Verifier(task, config=VerifierConfig(lint=False)),
                            config=EngineConfig(samples=1, repair_rounds=0, other_framings=()),
                            ledger=TokenLedger())
    result = await engine.solve(task)
    assert fake.calls == 2 and "greedy" not in result.stopped
    assert result.chosen is not None and result.chosen.text == RIGHT
