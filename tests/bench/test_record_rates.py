"""`bench quality` and the rate store: a run changes the store (and so the evidence plan) only
with --record, and records under the task set's name, apart from other task sets' figures."""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

import pytest

from logomesh_tui.bench.quality_tasks import load_tasks
from logomesh_tui.cli.bench import _quality_run, register
from logomesh_tui.evidence.rates import PassRates, plan_roles
from logomesh_tui.pool.fake import FakeBackend

TASKS_DIR = Path(__file__).resolve().parents[2] / "bench" / "tasks"
pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
BIG, SMALL = "qwen2.5-coder-1.5b", "qwen2.5-coder-0.5b"


@pytest.fixture
def hard_set(tmp_path):
    folder = tmp_path / "hard-set"
    picked = [t for t in load_tasks(TASKS_DIR) if t.name.startswith(("01-", "03-"))]
    for t in picked:
        shutil.copytree(t.path, folder / t.name)
    return folder, picked


@pytest.fixture
def store(tmp_path, monkeypatch):
    """A user store holding one task set: the 1.5B ahead of the 0.5B."""
    path = tmp_path / "rates.json"
    monkeypatch.setenv("LOGOMESH_PASS_RATES", str(path))
    rates = PassRates(path=path, task_set="tasks:tune")
    for i in range(25):
        rates.record(BIG, i < 8, f"t{i}")
        rates.record(SMALL, i < 6, f"t{i}")
    rates.save()
    return path


def executors_for(tasks):
    """The 1.5B answers the starter (fails every task), the 0.5B the reference (passes)."""
    by_title = {t.instruction.splitlines()[0]: t for t in tasks}

    def answer(right):
        def responder(req, _backend):
            if "careful tester" in req.messages[0]["content"]:
                return "no tests"
            text = "\n".join(m["content"] for m in req.messages)
            t = next(t for title, t in by_title.items() if title in text)
            return f"```ts\n{t.reference if right else t.input}```"
        return responder

    return {"primary-analyzer": FakeBackend(BIG, n_ctx=8192, responder=answer(False)),
            "architecture-critic": FakeBackend(SMALL, n_ctx=8192, responder=answer(True))}


def args_for(tmp_path, *extra: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers())
    return parser.parse_args(["bench", "quality", "--no-lint", "--out", str(tmp_path / "out"),
                              *extra])


def plan_now(executors) -> dict:
    return plan_roles(executors, PassRates.load()).describe(executors)


@pytest.mark.toolchain
async def test_a_run_without_record_leaves_the_store_and_the_plan_as_they_were(
        tmp_path, hard_set, store):
    folder, tasks = hard_set
    executors = executors_for(tasks)
    before_bytes, before_plan = store.read_bytes(), plan_now(executors)
    assert before_plan["primary"] == BIG
    assert before_plan["rates"] == {"task_set": "tasks:tune", "models": {
        SMALL: {"passed": 6, "tasks": 25}, BIG: {"passed": 8, "tasks": 25}}}
    result = await _quality_run(args_for(tmp_path, "--modes", "single"), executors, folder)
    assert result["modes"]["single"]["passed"] == 0 and result["recorded_task_set"] is None
    calibrated = await _quality_run(args_for(tmp_path, "--calibrate-only"), executors, folder)
    assert calibrated["calibration"] == {BIG: [0, 2], SMALL: [2, 2]}
    assert not calibrated["recorded"]
    assert store.read_bytes() == before_bytes
    assert plan_now(executors) == before_plan


@pytest.mark.toolchain
async def test_a_run_with_record_records_under_the_task_sets_name(tmp_path, hard_set, store):
    folder, tasks = hard_set
    executors = executors_for(tasks)
    result = await _quality_run(args_for(tmp_path, "--modes", "single", "--record"), executors,
                                folder)
    assert result["recorded_task_set"] == "hard-set"
    saved = PassRates.load(store)
    assert set(saved.sets) == {"tasks:tune", "hard-set"}
    hard = saved.on("hard-set")
    assert hard.counts == {BIG: {"attempts": 2, "passed": 0}}
    assert hard.tasks == {BIG: {t.name: False for t in tasks}}
    # Not added onto the other set's figures: the plan still reads the tune set's.
    assert saved.on("tasks:tune").counts[BIG] == {"attempts": 25, "passed": 8}
    assert plan_now(executors)["rates"]["task_set"] == "tasks:tune"
    # A calibration recorded under a name of the user's measures every model; a plan may be
    # asked to use that set, and says so.
    await _quality_run(args_for(tmp_path, "--calibrate-only", "--record", "--task-set", "mine"),
                       executors, folder)
    saved = PassRates.load(store)
    assert saved.on("mine").counts == {BIG: {"attempts": 2, "passed": 0},
                                       SMALL: {"attempts": 2, "passed": 2}}
    plan = plan_roles(executors, saved, task_set="mine")
    assert plan.describe(executors)["primary"] == SMALL
    assert plan.describe(executors)["rates"] == {"task_set": "mine", "models": {
        SMALL: {"passed": 2, "tasks": 2}, BIG: {"passed": 0, "tasks": 2}}}


def test_the_set_measuring_most_of_the_loaded_models_is_chosen(tmp_path):
    rates = PassRates(path=tmp_path / "r.json", task_set="one-model")
    for _ in range(50):
        rates.record(SMALL, True)
    both = rates.on("both")
    for i in range(4):
        both.record(BIG, True, f"t{i}")
        both.record(SMALL, i == 0, f"t{i}")

    class Ex:
        def __init__(self, model_id):
            self.model_id, self.n_ctx = model_id, 2048

    executors = {"a": Ex(BIG), "b": Ex(SMALL)}
    plan = plan_roles(executors, PassRates.load(rates.save()))
    assert (plan.task_set, plan.primary) == ("both", "a")
    assert plan_roles({"b": Ex(SMALL)}, rates).task_set == "one-model"  # the most attempts
    # A store in the older one-set form is one task set.
    old = tmp_path / "old.json"
    old.write_text(json.dumps({"models": {SMALL: {"attempts": 4, "passed": 3}}}))
    assert PassRates.load(old).on("unnamed").counts == {SMALL: {"attempts": 4, "passed": 3}}
