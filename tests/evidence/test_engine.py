"""The evidence engine with a scripted backend and the real verifier (tsc, node, sandbox).

The scripted models answer by temperature and prompt, so each test decides which candidates
exist; what is chosen, repaired or kept is the engine's doing, judged by the real compiler and
real node runs.
"""

from __future__ import annotations

import shutil

import pytest

from logomesh_tui.conversation.executors import TokenLedger
from logomesh_tui.errors import LogoMeshError
from logomesh_tui.evidence.engine import EvidenceConfig, EvidenceEngine, complete_statements
from logomesh_tui.evidence.rates import PassRates, Plan, plan_roles
from logomesh_tui.evidence.select import select
from logomesh_tui.evidence.types import Candidate, CodeTask, Evidence, Probe, ProbeRun
from logomesh_tui.evidence.verifier import (
    Verifier,
    VerifierConfig,
    exported_names,
    keeps_behaviour,
)
from logomesh_tui.pool.fake import FakeBackend

pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")

TASK = CodeTask(
    instruction="Fix `clamp(x, lo, hi)`: it must return lo when x < lo, hi when x > hi, else x. "
                "clamp(5, 0, 3) is 3.",
    starter="export function clamp(x: number, lo: number, hi: number): number {\n"
            "  return x;\n}\n")
RIGHT = ("export function clamp(x: number, lo: number, hi: number): number {\n"
         "  return Math.min(hi, Math.max(lo, x));\n}\n")
HALF = ("export function clamp(x: number, lo: number, hi: number): number {\n"
        "  return Math.max(lo, x);\n}\n")
BROKEN = ("export function clamp(x: number, lo: number, hi: number): number {\n"
          "  const s: string = x;\n  return s;\n}\n")
LOOPS = ("export function clamp(x: number, lo: number, hi: number): number {\n"
         "  while (x === x) { x = x + 0; }\n  return x;\n}\n")
PROBE = ('import { clamp } from "./input";\n'
         "console.log(clamp(5, 0, 3));\nconsole.log(clamp(-2, 0, 3));\nconsole.log(clamp(1, 0, 3));\n"
         'assert(clamp(5, 0, 3) === 3, "clamp(5, 0, 3) is 3");\n')


def fenced(code: str) -> str:
    return f"```ts\n{code}```\n"


def backend(by_temperature: dict[float, str], repair: str | None = None,
            probe: str = PROBE) -> FakeBackend:
    def responder(req, _backend):
        if "careful tester" in req.messages[0]["content"]:
            return fenced(probe)
        if repair is not None and "Automatic checks ran" in req.messages[-1]["content"]:
            return fenced(repair)
        return fenced(by_temperature.get(req.temperature, by_temperature[0.0]))
    return FakeBackend("scripted-coder-1.5b", n_ctx=8192, responder=responder)


def engine(fake: FakeBackend, **cfg) -> EvidenceEngine:
    events = []
    eng = EvidenceEngine(executors={"coder": fake}, plan=Plan(primary="coder", tester="coder"),
                         verifier=Verifier(TASK, config=VerifierConfig(lint=False)),
                         config=EvidenceConfig(**cfg), ledger=TokenLedger(),
                         on_event=events.append)
    eng.events = events  # type: ignore[attr-defined]
    return eng


@pytest.mark.toolchain
async def test_selection_by_execution_picks_the_agreeing_group_over_the_greedy_answer():
    fake = backend({0.0: HALF, 0.7: RIGHT, 1.0: RIGHT, 0.5: BROKEN}, repair=None)
    eng = engine(fake, samples=3, repair_rounds=0)
    result = await eng.solve(TASK)
    assert result.candidates[0].origin == "greedy" and result.candidates[0].text == HALF
    assert result.chosen is not None and result.chosen.text == RIGHT
    assert result.evidence[result.chosen.id].passes_all
    assert result.selection is not None
    assert result.selection.dropped.get(result.candidates[-1].id) == "does not compile"
    half = result.evidence[result.candidates[0].id]
    assert half.asserts_passed == 0 and half.asserts_total == 1
    kinds = {k for k, _ in eng.events}  # type: ignore[attr-defined]
    assert {"candidate", "probe", "evidence", "selection"} <= kinds


@pytest.mark.toolchain
async def test_a_passing_greedy_answer_stops_the_loop():
    fake = backend({0.0: RIGHT})
    # The probe holds one assertion; the default asks for two (see test_examples.py).
    result = await engine(fake, samples=3, early_stop_asserts=1).solve(TASK)
    assert len(result.candidates) == 1
    assert fake.calls == 2  # the greedy answer and the probes, nothing more
    assert "greedy" in result.stopped


@pytest.mark.toolchain
async def test_without_assertions_a_lone_greedy_answer_is_not_enough():
    # The probe only prints: the greedy answer compiles and differs from the starter, but
    # nothing says it is right, so samples are drawn and the agreeing group wins.
    printing = PROBE.split("assert(")[0]
    fake = backend({0.0: HALF, 0.7: RIGHT, 1.0: RIGHT}, probe=printing)
    result = await engine(fake, samples=2, repair_rounds=0, other_framings=(),
                          stop_on_unasserted_pass=False).solve(TASK)
    assert len(result.candidates) == 3
    assert result.chosen is not None and result.chosen.text == RIGHT


@pytest.mark.toolchain
async def test_where_the_task_states_no_example_a_clean_greedy_answer_stops_the_loop():
    printing = PROBE.split("assert(")[0]
    fake = backend({0.0: HALF, 0.7: RIGHT, 1.0: RIGHT}, probe=printing)
    task = TASK.model_copy(update={"instruction": "Fix `clamp(x, lo, hi)`."})
    eng = engine(fake, samples=2, repair_rounds=0)
    eng.verifier = Verifier(task, config=VerifierConfig(lint=False))
    result = await eng.solve(task)
    assert [c.text for c in result.candidates] == [HALF]
    assert fake.calls == 2 and "greedy" in result.stopped
    # A greedy answer that fails a check is not enough to stop.
    fake = backend({0.0: BROKEN, 0.7: RIGHT, 1.0: RIGHT}, probe=printing)
    eng = engine(fake, samples=2, repair_rounds=0, other_framings=())
    eng.verifier = Verifier(task, config=VerifierConfig(lint=False))
    result = await eng.solve(task)
    assert len(result.candidates) == 3 and result.chosen is not None
    assert result.chosen.text == RIGHT


@pytest.mark.toolchain
async def test_repair_works_from_verifier_facts_and_wins():
    fake = backend({0.0: BROKEN, 0.7: BROKEN, 1.0: BROKEN}, repair=RIGHT)
    result = await engine(fake, samples=2, repair_rounds=2).solve(TASK)
    repair_prompts = [r.messages[-1]["content"] for r in fake.requests
                      if "Automatic checks ran" in r.messages[-1]["content"]]
    assert len(repair_prompts) == 1  # stopped once the repair passed
    assert "TS2322" in repair_prompts[0]
    # The diagnostic quotes the line it points at, not only its number.
    assert "at: const s: string = x;" in repair_prompts[0]
    assert result.chosen is not None and result.chosen.origin == "repair"
    assert result.evidence[result.chosen.id].passes_all


@pytest.mark.toolchain
async def test_a_worse_repair_never_replaces_the_best_so_far():
    fake = backend({0.0: HALF, 0.7: HALF}, repair=BROKEN)
    result = await engine(fake, samples=1, repair_rounds=2).solve(TASK)
    assert result.rounds == 2
    assert [c.origin for c in result.candidates].count("repair") == 2
    assert result.chosen is not None and result.chosen.text == HALF
    assert "best-so-far" in result.stopped


@pytest.mark.toolchain
async def test_a_candidate_that_loops_is_killed_and_loses():
    fake = backend({0.0: LOOPS, 0.7: RIGHT})
    result = await engine(fake, samples=1, repair_rounds=0).solve(TASK)
    looping = result.evidence[result.candidates[0].id]
    assert looping.compiles
    assert looping.probes[0].status in ("timed-out", "killed")
    assert result.chosen is not None and result.chosen.text == RIGHT


@pytest.mark.toolchain
async def test_no_evidence_keeps_the_strongest_greedy_answer():
    # The tester writes nothing runnable: every candidate compiles, no probe tells them apart.
    fake = backend({0.0: HALF, 0.7: RIGHT}, probe="")
    result = await engine(fake, samples=1, repair_rounds=0).solve(TASK)
    assert result.probes == []
    assert result.chosen is not None and result.chosen.origin == "greedy"
    assert result.selection is not None and "greedy" in result.selection.reason


@pytest.mark.toolchain
async def test_acting_like_the_starter_is_dropped():
    starter_alike = TASK.starter.replace("return x;", "return x + 0;")
    fake = backend({0.0: starter_alike, 0.7: RIGHT, 1.0: starter_alike})
    result = await engine(fake, samples=2, repair_rounds=0).solve(TASK)
    ev = result.evidence[result.candidates[0].id]
    assert ev.same_as_starter
    assert result.chosen is not None and result.chosen.text == RIGHT


def test_select_ranks_group_size_times_tests_passed():
    cands = [Candidate(id=f"C{i}", text=f"t{i}", author="a") for i in range(5)]

    def ev(cid, out, passed):
        return Evidence(candidate=cid, compiles=True, asserts_total=1, asserts_passed=passed,
                        probes=[ProbeRun(probe="p1", status="ok", output=out)])

    evidence = {"C0": ev("C0", "a", 0), "C1": ev("C1", "a", 0), "C2": ev("C2", "a", 0),
                "C3": ev("C3", "b", 1), "C4": ev("C4", "b", 1)}
    sel = select(cands, evidence, preferred="C0")
    # 3 × (1 + 0) = 3 against 2 × (1 + 1) = 4; the passing group also passes everything.
    assert sel.chosen == "C3"
    assert sel.scores["C0"] == 3 and sel.scores["C3"] == 4


def test_in_one_behaviour_group_the_greedy_answer_beats_a_cleaner_lint():
    from logomesh_tui.evidence.types import Diagnostic

    cands = [Candidate(id=f"C{i}", text=f"t{i}", author="a") for i in range(3)]

    def ev(cid, lint, passed=0):
        return Evidence(candidate=cid, compiles=True, asserts_total=1, asserts_passed=passed,
                        lint_errors=[Diagnostic(tool="eslint", code="react-hooks/exhaustive-deps",
                                                message="missing dependency")] * lint,
                        probes=[ProbeRun(probe="p1", status="threw", output="x")])

    # The same (unhelpful) probe behaviour: lint alone does not unseat the greedy answer.
    sel = select(cands, {"C0": ev("C0", 1), "C1": ev("C1", 0), "C2": ev("C2", 2)},
                 preferred="C0")
    assert sel.chosen == "C0"
    # An assertion passed is evidence: it does.
    sel = select(cands, {"C0": ev("C0", 1), "C1": ev("C1", 0), "C2": ev("C2", 0, passed=1)},
                 preferred="C0")
    assert sel.chosen == "C2"


def test_plan_follows_measured_rates_not_names():
    class Ex:
        def __init__(self, model_id):
            self.model_id = model_id
            self.n_ctx = 2048

    executors = {"a": Ex("big-7b"), "b": Ex("small-0.5b"), "c": Ex("tiny-135m")}
    rates = PassRates()
    for _ in range(10):
        rates.record("big-7b", False)
        rates.record("small-0.5b", True)
        rates.record("tiny-135m", False)
    plan = plan_roles(executors, rates)
    assert plan.primary == "b"
    assert plan.extra_coders == ()  # nobody else reaches half the best rate
    few = PassRates()
    for model, passed in (("big-7b", [True, False]), ("small-0.5b", [True, False]),
                          ("tiny-135m", [False, False])):
        for p in passed:
            few.record(model, p)
    plan_few = plan_roles(executors, few)
    assert plan_few.extra_coders == ("b",)  # never-passing tiny is left out
    unmeasured = plan_roles(executors, PassRates())
    assert unmeasured.primary == "a"  # no measurements: the largest model


def test_a_weaker_model_codes_only_where_it_passed_what_the_best_failed(tmp_path):
    class Ex:
        def __init__(self, model_id):
            self.model_id = model_id
            self.n_ctx = 2048

    executors = {"a": Ex("big-1.5b"), "b": Ex("small-0.5b")}
    rates = PassRates(path=tmp_path / "rates.json")
    for task, big, small in (("t1", True, True), ("t2", True, False), ("t3", False, False),
                             ("t4", True, True)):
        rates.record("big-1.5b", big, task)
        rates.record("small-0.5b", small, task)
    assert rates.rescues("small-0.5b", "big-1.5b") == 0
    plan = plan_roles(executors, rates)
    # Half the best rate and more, but nothing the best model missed: it tests, it does not code.
    assert (plan.primary, plan.extra_coders, plan.tester) == ("a", (), "b")
    rates.record("small-0.5b", True, "t3")  # now it passes one the best failed
    assert rates.rescues("small-0.5b", "big-1.5b") == 1
    assert plan_roles(executors, rates).extra_coders == ("b",)
    # The per-task outcomes survive a save and load; without them the rate rule alone decides.
    loaded = PassRates.load(rates.save())
    assert loaded.tasks == rates.tasks and loaded.rescues("small-0.5b", "big-1.5b") == 1
    assert PassRates(counts=rates.counts).rescues("small-0.5b", "big-1.5b") is None


@pytest.mark.toolchain
async def test_a_probe_that_forgot_its_import_still_tests_each_candidate():
    # Small testers call the function without importing it: the runner offers the file's
    # exports as globals, so the probe judges candidates instead of throwing for all alike.
    no_import = PROBE.split("\n", 1)[1]
    assert "import" not in no_import
    ver = Verifier(TASK, config=VerifierConfig(lint=False))
    probe = Probe(id="p1", code=no_import)
    ev = await ver.verify([Candidate(id="C1", text=RIGHT, author="a", origin="greedy"),
                           Candidate(id="C2", text=HALF, author="a", origin="sample")],
                          [probe])
    assert [r.status for r in ev["C1"].probes] == ["ok"]
    assert [r.status for r in ev["C2"].probes] == ["assert-failed"]
    assert ev["C1"].probes[0].output.splitlines()[:3] == ["3", "0", "1"]


@pytest.mark.toolchain
async def test_acting_like_the_starter_alone_is_not_sent_for_repair():
    # Input-only probe; every candidate prints what the starter prints (x unchanged for these
    # inputs): nothing concrete failed, so no repair call is spent on "acts like the starter".
    printing = 'import { clamp } from "./input";\nconsole.log(clamp(1, 0, 3));\n'
    same = ("export function clamp(x: number, lo: number, hi: number): number {\n"
            "  return x + 0;\n}\n")
    fake = backend({0.0: same, 0.7: same}, repair=RIGHT, probe=printing)
    result = await engine(fake, samples=1, repair_rounds=2).solve(TASK)
    assert result.evidence[result.chosen.id].failed_checks() == ["behaves-like-starter"]
    assert not [r for r in fake.requests if "Automatic checks ran" in r.messages[-1]["content"]]
    assert result.rounds == 0 and "nothing concrete to repair" in result.stopped


def test_wording_that_keeps_behaviour():
    for text in ("Use it from `invoiceText`, whose output must not change.",
                 "Split the component without changing its behaviour.",
                 "The results stay the same.", "Keep the same output for every input.",
                 "Keep its behaviour and exports.", "Refactor it, preserving behavior."):
        assert keeps_behaviour(text), text
    for text in ("Fix `clamp`: it must return lo when x < lo.", "An unknown id returns the list "
                 "unchanged (same array).", "`toggle` must be the same function on every render."):
        assert not keeps_behaviour(text), text


@pytest.mark.toolchain
async def test_in_a_refactor_acting_like_the_starter_is_the_point():
    task = CodeTask(instruction="Extract the bounds check of `clamp` into an exported `bound` "
                                "function; the output of `clamp` must not change.",
                    starter=TASK.starter)
    refactored = ("export function bound(x: number): number {\n  return x;\n}\n"
                  "export function clamp(x: number, lo: number, hi: number): number {\n"
                  "  return bound(x);\n}\n")
    probe = Probe(id="p1", code='import { clamp } from "./input";\nconsole.log(clamp(5, 0, 3));\n',
                  author="tester")
    cand = Candidate(id="C1", text=refactored, author="coder")
    ev = await Verifier(task, config=VerifierConfig(lint=False)).verify([cand], [probe])
    assert not ev["C1"].same_as_starter and ev["C1"].passes_all
    # The same candidate for a behaviour fix acts like the buggy starter: that is damning.
    ev = await Verifier(TASK, config=VerifierConfig(lint=False)).verify([cand], [probe])
    assert ev["C1"].same_as_starter and not ev["C1"].passes_all


@pytest.mark.toolchain
async def test_a_file_that_does_not_parse_hides_no_other_type_error():
    # tsc reports no type errors while any file has a syntax error: a probe cut off mid-line
    # or one candidate that does not parse must not make the others "compile".
    cut_off = Probe(id="p1", code='import { clamp } from "./input";\nconsole.log(clamp(1, 0,',
                    author="tester")
    fine = Probe(id="p2", code='import { clamp } from "./input";\nconsole.log(clamp(5, 0, 3));\n',
                 author="tester")
    unparsable = Candidate(id="C1", text="export function clamp(x: number {\n", author="coder")
    typed_wrong = Candidate(id="C2", text=BROKEN, author="coder")
    right = Candidate(id="C3", text=RIGHT, author="coder")
    ev = await Verifier(TASK, config=VerifierConfig(lint=False)).verify(
        [unparsable, typed_wrong, right], [cut_off, fine])
    assert not ev["C1"].compiles and ev["C1"].compile_errors[0].code.startswith("TS1")
    assert not ev["C2"].compiles and any(d.code == "TS2322" for d in ev["C2"].compile_errors)
    assert ev["C3"].compiles
    runs = {r.probe: r for r in ev["C3"].probes}
    assert runs["p1"].status == "not-run" and "does not parse" in runs["p1"].output
    assert runs["p2"].status == "ok" and runs["p2"].output == "3"


def test_exported_names():
    source = ("export function a() {}\nexport const b = 1;\nexport interface C {}\n"
              "export type D = 1;\nexport { e, f as g };\nexport default function () {}\n"
              "export async function k() {}\nfunction hidden() {}\n")
    assert exported_names(source) == {"a", "b", "C", "D", "e", "g", "default", "k"}


@pytest.mark.toolchain
async def test_a_candidate_that_drops_an_export_fails_unless_the_task_says_so():
    task = CodeTask(instruction=TASK.instruction, starter="export const LIMIT = 3;\n" + TASK.starter)
    dropped = Candidate(id="C1", text=RIGHT, author="coder")
    kept = Candidate(id="C2", text="export const LIMIT = 3;\n" + RIGHT, author="coder")
    ev = await Verifier(task, config=VerifierConfig(lint=False)).verify([dropped, kept], [])
    assert ev["C1"].missing_exports == ["LIMIT"] and "exports" in ev["C1"].failed_checks()
    assert "no longer exports LIMIT" in ev["C1"].facts() and not ev["C1"].passes_all
    assert ev["C2"].missing_exports == [] and ev["C2"].passes_all
    told = task.model_copy(update={"instruction": task.instruction + " Remove the `LIMIT` constant."})
    ev = await Verifier(told, config=VerifierConfig(lint=False)).verify([dropped], [])
    assert ev["C1"].missing_exports == []


def test_a_cut_off_probe_keeps_its_complete_statements():
    cut = ('import { clamp } from "./input";\nconsole.log(clamp(5, 0, 3)); // 3\n'
           "for (const x of [1, 2]) {\n  console.log(clamp(x, 0, 3));\n}\n"
           'console.log(clamp({ kind: "square", side: 1.')
    assert complete_statements(cut) == cut[:cut.index('console.log(clamp({')]
    whole = "const s = 'a;b';\nif (s) {\n  console.log(`x\ny`)\n}\n"
    assert complete_statements(whole) == whole
    assert complete_statements("for (const x of xs) {\n  f(x);\n") == ""


@pytest.mark.toolchain
async def test_the_engine_runs_what_a_cut_off_probe_completed():
    cut = PROBE + 'console.log(clamp(-5, 0, 3));\nconsole.log(clamp({ kind: "sq'
    fake = backend({0.0: RIGHT}, probe=cut)
    result = await engine(fake, samples=0, repair_rounds=0, early_stop_asserts=1).solve(TASK)
    assert result.probes[0].code.rstrip().endswith("console.log(clamp(-5, 0, 3));")
    run = result.evidence[result.candidates[0].id].probes[0]
    assert run.status == "ok" and run.output.splitlines()[-1] == "0"


@pytest.mark.toolchain
async def test_a_weak_pass_by_a_weaker_model_does_not_stop_the_primarys_repair():
    # No assertion anywhere: the helper's answer passes tsc and lint, the primary's greedy
    # answer has a type error. The primary's answer is repaired from its facts, and on equal
    # evidence its repair is chosen over the weaker model's.
    printing = 'import { clamp } from "./input";\nconsole.log(clamp(5, 0, 3));\n'
    other_right = RIGHT.replace("Math.min(hi, Math.max(lo, x))", "x < lo ? lo : x > hi ? hi : x")
    primary = backend({0.0: BROKEN, 0.7: BROKEN}, repair=RIGHT, probe=printing)
    helper = FakeBackend("scripted-helper-0.5b", n_ctx=8192,
                         responder=lambda req, _b: fenced(other_right))
    eng = EvidenceEngine(executors={"coder": primary, "helper": helper},
                         plan=Plan(primary="coder", extra_coders=("helper",), tester="coder"),
                         verifier=Verifier(TASK, config=VerifierConfig(lint=False)),
                         config=EvidenceConfig(samples=1, extra_coder_samples=1, repair_rounds=1),
                         ledger=TokenLedger())
    result = await eng.solve(TASK)
    repair = next(c for c in result.candidates if c.origin == "repair")
    assert repair.parent == result.candidates[0].id and repair.text == RIGHT
    assert result.chosen is not None and result.chosen.id == repair.id
    helper_answer = next(c for c in result.candidates if c.author == "helper")
    assert result.evidence[helper_answer.id].passes_all  # it passed too, and lost the tie


@pytest.mark.toolchain
async def test_a_focused_candidate_answers_for_its_part_and_what_it_breaks_elsewhere():
    # A file too big for a reply: the models rewrite one part. A type error elsewhere that the
    # original already has is not the candidate's; one inside its part, or a new one elsewhere
    # (here: a name the part stopped exporting that the rest uses), is.
    head = "export function half(n: number): number {\n  return n / 2;\n}\n"
    part = "export function twice(n: number): number {\n  const s: string = n;\n  return n * 2;\n}\n"
    tail = "export function later(): number {\n  const t: string = 1;\n  return twice(half(4));\n}\n"
    starter = head + part + tail
    task = CodeTask(instruction="Fix the type error in `twice`. Keep its behaviour.",
                    starter=starter, focus=(len(head), len(head) + len(part)))
    fixed = task.compose("export function twice(n: number): number {\n"
                         "  // doubled\n  const s: number = n;\n  return s * 2;\n}\n")
    still = task.compose(part)
    broke = task.compose("export function double(n: number): number {\n  return n * 2;\n}\n")
    ev = await Verifier(task, config=VerifierConfig(lint=False)).verify(
        [Candidate(id="C1", text=fixed, author="coder"),
         Candidate(id="C2", text=still, author="coder"),
         Candidate(id="C3", text=broke, author="coder")], [])
    assert ev["C1"].compiles and ev["C1"].preexisting == 1 and ev["C1"].passes_all
    assert "not counted: 1" in ev["C1"].summary()
    # Unchanged text: its own part's error counts (and the file is unchanged).
    assert not ev["C2"].compiles and [d.line for d in ev["C2"].compile_errors] == [5]
    # The rest of the file calls `twice`, which the part no longer defines: a new error there.
    assert not ev["C3"].compiles
    assert any("twice" in d.message for d in ev["C3"].compile_errors)
    # Without a focus every finding counts.
    whole = task.model_copy(update={"focus": None})
    ev = await Verifier(whole, config=VerifierConfig(lint=False)).verify(
        [Candidate(id="C1", text=fixed, author="coder")], [])
    assert not ev["C1"].compiles and ev["C1"].preexisting == 0


@pytest.mark.toolchain
async def test_a_second_framing_of_the_task_can_find_what_the_first_missed():
    # The primary copies the file back when the task comes after the code (code-first) and
    # fixes it when asked straight (direct): the second framing's answer is judged and wins.
    def responder(req, _backend):
        user = req.messages[-1]["content"]
        if "careful tester" in req.messages[0]["content"]:
            return fenced(PROBE)
        return fenced(TASK.starter if "Task:" in user else RIGHT)
    fake = FakeBackend("scripted-coder-1.5b", n_ctx=8192, responder=responder)
    eng = engine(fake, repair_rounds=0)
    assert eng.config.framing == "code-first" and eng.config.other_framings == ("direct",)
    result = await eng.solve(TASK)
    assert [(c.origin, c.framing) for c in result.candidates] == [
        ("greedy", "code-first"), ("greedy-framed", "direct")]
    assert result.chosen is not None and result.chosen.text == RIGHT
    assert "unchanged" in result.evidence["C1"].failed_checks()
    assert "Task:" in eng.task_prompt(TASK, "code-first")
    assert "Task:" not in eng.task_prompt(TASK, "direct")
    with pytest.raises(LogoMeshError, match="unknown framing"):
        eng.task_prompt(TASK, "shout")


@pytest.mark.toolchain
async def test_a_later_repair_round_goes_on_from_the_last_repair():
    # The greedy answer compiles and fails the stated example; its repair fixes the behaviour
    # but breaks the types; only a repair of that repair passes. Repairing the selected answer
    # (the greedy one, which compiles) again would give the same broken repair.
    step = ("export function clamp(x: number, lo: number, hi: number): number {\n"
            "  const s: string = Math.min(hi, Math.max(lo, x));\n  return Number(s);\n}\n")

    def responder(req, _backend):
        if "careful tester" in req.messages[0]["content"]:
            return fenced(PROBE)
        if "Automatic checks ran" in req.messages[-1]["content"]:
            repaired = req.messages[-2]["content"]
            return fenced(RIGHT if "const s: string" in repaired else step)
        return fenced(HALF)

    fake = FakeBackend("scripted-coder-1.5b", n_ctx=8192, responder=responder)
    result = await engine(fake, repair_rounds=2, other_framings=()).solve(TASK)
    repairs = [c for c in result.candidates if c.origin == "repair"]
    assert [c.text for c in repairs] == [step, RIGHT]
    assert repairs[1].parent == repairs[0].id
    assert result.chosen is repairs[1] and result.evidence[repairs[1].id].passes_all


@pytest.mark.toolchain
async def test_a_copied_back_answer_is_repaired_from_a_fresh_prompt_not_its_own_copy():
    # The primary copies the file back when shown its own copy; asked afresh, with the facts
    # in the task prompt, it changes the code.
    def responder(req, _backend):
        if "careful tester" in req.messages[0]["content"]:
            return fenced(PROBE)
        if "An earlier answer was checked" in req.messages[-1]["content"]:
            return fenced(RIGHT)
        return fenced(TASK.starter)

    fake = FakeBackend("scripted-coder-1.5b", n_ctx=8192, responder=responder)
    result = await engine(fake, repair_rounds=1, other_framings=()).solve(TASK)
    repair_request = fake.requests[-1]
    assert [m["role"] for m in repair_request.messages] == ["system", "user"]
    prompt = repair_request.messages[-1]["content"]
    assert "unchanged from the starter" in prompt and "First say in one short sentence" in prompt
    assert prompt.index("unchanged from the starter") < prompt.index("First say")
    assert result.chosen is not None and result.chosen.origin == "repair"
    assert result.chosen.text == RIGHT and result.evidence[result.chosen.id].passes_all


@pytest.mark.toolchain
async def test_an_answer_repaired_before_is_asked_afresh_and_sampled_the_next_time():
    # Asked to repair the same answer the same way, the model gives the same repair; the
    # second time it gets the task afresh with the facts, sampled, and that answer passes.
    def responder(req, _backend):
        if "careful tester" in req.messages[0]["content"]:
            return fenced(PROBE)
        if "An earlier answer was checked" in req.messages[-1]["content"]:
            return fenced(RIGHT if req.temperature > 0 else HALF)
        return fenced(HALF)

    fake = FakeBackend("scripted-coder-1.5b", n_ctx=8192, responder=responder)
    result = await engine(fake, repair_rounds=2, other_framings=()).solve(TASK)
    repairs = [c for c in result.candidates if c.origin == "repair"]
    assert [c.parent for c in repairs] == ["C1", "C1"]
    assert [c.temperature for c in repairs] == [0.0, 0.7]
    last = fake.requests[-1]
    assert [m["role"] for m in last.messages] == ["system", "user"]
    assert "An earlier answer was checked" in last.messages[-1]["content"]
    assert result.chosen is repairs[1] and result.chosen.text == RIGHT
