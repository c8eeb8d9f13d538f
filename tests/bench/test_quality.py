"""`bench quality`'s four modes with scripted models and the real compiler, node and sandbox.

The point of these tests is the benchmark's honesty: the hidden check never reaches a prompt,
every candidate is stored with its verdict, pass@k is computed from them, and the modes differ
only in what each mode is defined to change.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from logomesh_tui.bench.quality import format_table, pass_at_k, run_quality
from logomesh_tui.bench.quality_tasks import load_tasks
from logomesh_tui.evidence.engine import EvidenceConfig
from logomesh_tui.evidence.rates import PassRates
from logomesh_tui.pool.fake import FakeBackend
from logomesh_tui.verify.toolchain import ensure_tsc

TASKS_DIR = Path(__file__).resolve().parents[2] / "bench" / "tasks"
pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")


@pytest.fixture(scope="module")
def toolchain():
    return ensure_tsc()


@pytest.fixture
def two_tasks(tmp_path):
    picked = [t for t in load_tasks(TASKS_DIR) if t.name.startswith(("01-", "03-"))]
    for t in picked:
        shutil.copytree(t.path, tmp_path / t.name)
    return tmp_path, picked


def scripted(tasks, *, greedy_right: bool, samples_right: bool, helper_right: bool):
    """'strong' answers the starter greedily (or the reference) and the reference when sampling
    (if samples_right); 'helper' answers the reference (if helper_right). Tester: no probes."""
    by_title = {t.instruction.splitlines()[0]: t for t in tasks}
    seen: list[str] = []

    def task_of(req):
        text = "\n".join(m["content"] for m in req.messages)
        seen.append(text)
        return next(t for title, t in by_title.items() if title in text)

    def strong(req, backend):
        t = task_of(req)
        if "careful tester" in req.messages[0]["content"]:
            return "I cannot write tests."
        right = greedy_right if req.temperature == 0.0 else samples_right
        return f"```ts\n{t.reference if right else t.input}```"

    def helper(req, backend):
        t = task_of(req)
        if "careful tester" in req.messages[0]["content"]:
            return "no"
        return f"```ts\n{t.reference if helper_right else t.input}```"

    executors = {"primary-analyzer": FakeBackend("qwen2.5-coder-1.5b", n_ctx=8192, responder=strong),
                 "architecture-critic": FakeBackend("qwen2.5-coder-0.5b", n_ctx=8192,
                                                    responder=helper)}
    return executors, seen


@pytest.mark.toolchain
async def test_the_modes_differ_as_designed_and_every_candidate_is_scored(toolchain, two_tasks):
    folder, tasks = two_tasks
    executors, seen = scripted(tasks, greedy_right=False, samples_right=True, helper_right=True)
    rates = PassRates()
    for _ in range(4):
        rates.record("qwen2.5-coder-1.5b", True)
        rates.record("qwen2.5-coder-0.5b", True)
    # One temperature sample (off by default): the scripted strong model is right only there.
    result = await run_quality(executors, folder, toolchain=toolchain, rates=rates, lint=False,
                               engine_config=EvidenceConfig(samples=1))
    modes = result["modes"]
    assert result["best_model"] == "qwen2.5-coder-1.5b"
    assert result["pool_plan"]["extra_coders"] == ["qwen2.5-coder-0.5b"]
    # The greedy answer is the starter: the one shot fails; the engine's samples pass.
    assert modes["single"]["passed"] == 0
    assert modes["single_checks"]["passed"] == 2
    assert modes["pool"]["passed"] == 2
    for m in modes.values():
        assert m["tasks"] == 2 and m["calls"] > 0 and m["total_tokens"] > 0
    row = result["tasks"][0]
    for mode in ("single", "self_repair", "single_checks", "pool"):
        for c in row[mode]["candidates"]:
            assert isinstance(c["verdict"]["passed"], bool)
    assert any(c["model_id"] == "qwen2.5-coder-0.5b" for c in row["pool"]["candidates"])
    assert result["per_model"]["qwen2.5-coder-0.5b"]["pass@1"] == 1.0
    # Nothing of the hidden check or the reference file reached a model.
    for t in tasks:
        check_text = t.support["check.ts"].strip()
        assert all(check_text not in prompt for prompt in seen)
    assert "pool" in format_table(result)


@pytest.mark.toolchain
async def test_self_repair_sends_compiler_errors_and_keeps_the_compiling_answer(toolchain,
                                                                                 two_tasks):
    folder, tasks = two_tasks
    executors, seen = scripted(tasks, greedy_right=False, samples_right=True, helper_right=False)
    result = await run_quality(executors, folder, toolchain=toolchain, rates=PassRates(),
                               modes=("self_repair",), lint=False)
    # Both starters fail to compile: one repair each, from the compiler's own words.
    for row in result["tasks"]:
        sr = row["self_repair"]
        assert sr["attempts"] == 2 and sr["passed"]
        assert sr["chosen"] == sr["candidates"][1]["id"]
    assert sum("tsc --strict) reports:" in p and "tsc TS" in p for p in seen) == 2


def test_pass_at_k_is_the_unbiased_estimator():
    assert pass_at_k(5, 0, 1) == 0.0
    assert pass_at_k(5, 5, 1) == 1.0
    assert pass_at_k(4, 1, 1) == pytest.approx(0.25)
    assert pass_at_k(4, 1, 2) == pytest.approx(0.5)


@pytest.mark.toolchain
async def test_every_mode_starts_from_one_greedy_answer_and_is_charged_its_time(toolchain,
                                                                                two_tasks):
    folder, tasks = two_tasks
    executors, _ = scripted(tasks, greedy_right=True, samples_right=True, helper_right=False)
    executors["primary-analyzer"].token_delay_s = 0.002
    greedy_calls = []
    inner = executors["primary-analyzer"].generate

    async def counting(request, on_token=None):
        if request.temperature == 0.0 and "careful tester" not in request.messages[0]["content"]:
            greedy_calls.append(request)
        return await inner(request, on_token)

    executors["primary-analyzer"].generate = counting
    result = await run_quality(executors, folder, toolchain=toolchain, rates=PassRates(),
                               modes=("single", "self_repair", "single_checks"), lint=False)
    # One greedy call per task serves the three modes ...
    assert len(greedy_calls) == 2
    for row in result["tasks"]:
        texts = {row[m]["candidates"][0]["text"] for m in ("single", "self_repair",
                                                            "single_checks")}
        assert len(texts) == 1
        # ... and each mode is charged at least the seconds that call took.
        assert row["self_repair"]["seconds"] >= row["single"]["seconds"] * 0.5
