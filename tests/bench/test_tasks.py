"""The shipped quality tasks are well formed: every starter fails, every reference passes.

Uses the real TypeScript compiler (installed by the project) and node.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from logomesh_tui.bench.quality_tasks import TaskError, check_answer, check_answers, load_tasks
from logomesh_tui.codepipe.toolchain import ensure_tsc

TASKS_DIR = Path(__file__).resolve().parents[2] / "bench" / "tasks"


@pytest.fixture(scope="module")
def toolchain():
    return ensure_tsc()


@pytest.fixture(scope="module")
def tasks():
    return load_tasks(TASKS_DIR)


def test_at_least_twenty_tasks_each_with_a_reference(tasks):
    assert len(tasks) >= 20
    for t in tasks:
        assert t.instruction and "check.ts" in t.support
        assert t.reference is not None, f"{t.name} has no reference.ts"


@pytest.fixture(scope="module")
def verdicts(toolchain, tasks):
    pairs = [(t, t.input) for t in tasks] + [(t, t.reference) for t in tasks]
    outcomes = check_answers(toolchain, pairs)
    n = len(tasks)
    return {"input": dict(zip([t.name for t in tasks], outcomes[:n], strict=True)),
            "reference": dict(zip([t.name for t in tasks], outcomes[n:], strict=True))}


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


def test_single_command_runner_agrees_with_the_batch(toolchain, tasks, verdicts):
    # One compile-stage and one run-stage task, each as starter and as reference, run with the
    # exact documented command line.
    picks = [tasks[0], next(t for t in tasks if verdicts["input"][t.name].stage == "run")]
    for t in picks:
        for kind, answer in (("input", t.input), ("reference", t.reference)):
            single = check_answer(toolchain, t, answer)
            batch = verdicts[kind][t.name]
            assert (single.passed, single.stage) == (batch.passed, batch.stage), (t.name, kind)


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
