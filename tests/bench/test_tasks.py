"""The shipped quality tasks are well formed: every starter fails, every reference passes.

Uses the real TypeScript compiler (installed by the project) and node. Structural tests keep the
set honest: the task text never contains the hidden check's code, every name the check imports is
named where a model can see it, and each task's ``task.json`` marks its kind and its tune/dev split.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest

from logomesh_tui.bench.quality_tasks import TaskError, check_answer, check_answers, load_tasks
from logomesh_tui.verify.toolchain import ensure_tsc

TASKS_DIR = Path(__file__).resolve().parents[2] / "bench" / "tasks"


@pytest.fixture(scope="module")
def toolchain():
    return ensure_tsc()


@pytest.fixture(scope="module")
def tasks():
    return load_tasks(TASKS_DIR)


KINDS = {"implement", "bugfix", "types", "react"}
DIFFICULTIES = {"easy", "medium", "hard"}
SPLITS = {"tune", "dev"}


def _meta(task) -> dict:
    return json.loads((task.path / "task.json").read_text(encoding="utf-8"))


def _normalized(text: str) -> str:
    return " ".join(text.split())


def test_at_least_forty_four_tasks_each_with_a_reference(tasks):
    assert len(tasks) >= 44
    for t in tasks:
        assert t.instruction and "check.ts" in t.support
        assert t.reference is not None, f"{t.name} has no reference.ts"


def test_every_task_has_metadata_that_the_loader_keeps_out_of_the_answer_folder(tasks):
    for t in tasks:
        meta = _meta(t)
        assert set(meta) == {"kind", "difficulty", "split"}, t.name
        assert meta["kind"] in KINDS and meta["difficulty"] in DIFFICULTIES, (t.name, meta)
        assert meta["split"] in SPLITS, (t.name, meta)
        assert "task.json" not in t.support


def test_kinds_are_balanced_and_each_kind_is_split_evenly(tasks):
    metas = [_meta(t) for t in tasks]
    kinds = Counter(m["kind"] for m in metas)
    assert set(kinds) == KINDS
    assert max(kinds.values()) - min(kinds.values()) <= 4, kinds
    for kind in KINDS:
        splits = Counter(m["split"] for m in metas if m["kind"] == kind)
        assert abs(splits["tune"] - splits["dev"]) <= 1, (kind, splits)
    difficulties = Counter(m["difficulty"] for m in metas)
    assert all(difficulties[d] >= 5 for d in DIFFICULTIES), difficulties


def test_titles_are_unique(tasks):
    titles = [t.instruction.splitlines()[0] for t in tasks]
    assert [title for title, n in Counter(titles).items() if n > 1] == []


# Lines every check shares (imports, the assert helper) say nothing about the expected behaviour.
_BOILERPLATE = re.compile(r"^(import |//|function assert\(|if \(!cond\) throw new Error\(msg\);)")


def test_task_text_does_not_contain_the_checks_code(tasks):
    leaks = []
    for t in tasks:
        text = _normalized(t.instruction)
        for line in t.support["check.ts"].splitlines():
            code = _normalized(line)
            if len(code) >= 20 and not _BOILERPLATE.match(code) and code in text:
                leaks.append((t.name, code))
    assert leaks == []


def test_every_name_the_check_imports_is_named_in_the_task_or_the_starter(tasks):
    missing = []
    for t in tasks:
        for group in re.findall(r'import \{([^}]*)\} from "\./input"', t.support["check.ts"]):
            for name in (n.strip() for n in group.split(",")):
                if name and not re.search(rf"\b{re.escape(name)}\b", t.instruction + t.input):
                    missing.append((t.name, name))
    assert missing == []


def test_hook_tasks_share_one_mini_react(tasks):
    copies = {t.support["mini-react.ts"] for t in tasks if "mini-react.ts" in t.support}
    assert len(copies) == 1
    hook_tasks = {t.name for t in tasks if "mini-react.ts" in t.support}
    assert hook_tasks == {t.name for t in tasks if _meta(t)["kind"] == "react"}


@pytest.fixture(scope="module")
def verdicts(toolchain, tasks):
    pairs = [(t, t.input) for t in tasks] + [(t, t.reference) for t in tasks]
    outcomes = check_answers(toolchain, pairs)
    n = len(tasks)
    return {"input": dict(zip([t.name for t in tasks], outcomes[:n], strict=True)),
            "reference": dict(zip([t.name for t in tasks], outcomes[n:], strict=True))}


@pytest.mark.toolchain
def test_every_starter_input_fails_its_check(verdicts):
    passing = [name for name, o in verdicts["input"].items() if o.passed]
    assert passing == []


def test_every_reference_passes(verdicts):
    failing = {name: (o.stage, o.output, [d.render() for d in o.diagnostics])
               for name, o in verdicts["reference"].items() if not o.passed}
    assert failing == {}


def test_failures_come_from_both_the_compiler_and_the_runtime_check(verdicts):
    stages = {o.stage for o in verdicts["input"].values()}
    assert stages == {"compile", "run"}


@pytest.mark.toolchain
def test_single_command_runner_agrees_with_the_batch(toolchain, tasks, verdicts):
    # One compile-stage and one run-stage task, each as starter and as reference, run with the
    # exact documented command line.
    picks = [tasks[0], next(t for t in tasks if verdicts["input"][t.name].stage == "run")]
    for t in picks:
        for kind, answer in (("input", t.input), ("reference", t.reference)):
            single = check_answer(toolchain, t, answer)
            batch = verdicts[kind][t.name]
            assert (single.passed, single.stage) == (batch.passed, batch.stage), (t.name, kind)


@pytest.mark.toolchain
def test_a_non_module_answer_in_the_batch_does_not_leak_into_others(toolchain, tasks):
    t = tasks[0]
    script = "function total(prices: number[]): number { return 0; }\n"
    outcomes = check_answers(toolchain, [(t, script), (t, script), (t, t.reference)])
    assert [o.passed for o in outcomes] == [False, False, True]


def test_loading_a_missing_or_empty_folder_is_a_clear_error(tmp_path):
    with pytest.raises(TaskError, match="does not exist"):
        load_tasks(tmp_path / "nope")
    with pytest.raises(TaskError, match="no tasks"):
        load_tasks(tmp_path)
    (tmp_path / "t1").mkdir()
    (tmp_path / "t1" / "task.md").write_text("x")
    with pytest.raises(TaskError, match="input.ts"):
        load_tasks(tmp_path)


@pytest.mark.toolchain
async def test_every_reference_passes_the_facts_a_program_reads_from_its_task(tasks):
    """The examples and throws the verifier reads from a task's text (evidence/examples.py) hold
    for its reference: a misread example would damn right answers in every loop."""
    from logomesh_tui.bench.quality import code_task
    from logomesh_tui.evidence.examples import example_probes
    from logomesh_tui.evidence.types import Candidate
    from logomesh_tui.evidence.verifier import Verifier, VerifierConfig

    checked = 0
    for t in tasks:
        task = code_task(t)
        probes = example_probes(task)
        if not probes:
            continue
        ev = (await Verifier(task, config=VerifierConfig(lint=False)).verify(
            [Candidate(id="R", text=t.reference or "", author="reference", origin="greedy")],
            probes))["R"]
        assert ev.asserts_total == len(probes), t.name
        assert ev.asserts_passed == ev.asserts_total, (t.name, ev.facts())
        checked += 1
    # Facts are read only in the grammar of docs/task-facts.md; the shipped texts state few.
    assert checked >= 1
