"""The evidence engine with the real pool (qwen2.5-coder-0.5b and smollm2-135m in real worker
processes) on two small shipped tasks, judged by the real verifier.

Whether the small models solve a task is not asserted (that is the benchmark's business); what
is asserted holds for any model: every candidate is judged, the chosen one is the best by the
evidence, and the loop stays inside its budget.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from logomesh_tui.bench.quality import code_task
from logomesh_tui.bench.quality_tasks import load_tasks
from logomesh_tui.config import EngineConfig
from logomesh_tui.conversation.executors import TokenLedger
from logomesh_tui.evidence.engine import EvidenceConfig, EvidenceEngine
from logomesh_tui.evidence.rates import PassRates, plan_roles
from logomesh_tui.evidence.verifier import Verifier, VerifierConfig
from logomesh_tui.pool.engine import HotSwapEngine
from tests.conftest import require_model

TASKS = Path(__file__).resolve().parents[2] / "bench" / "tasks"


@pytest.mark.real
@pytest.mark.parametrize("name", ["01-fix-return-type", "03-undefined-guard"])
async def test_the_real_pool_on_a_small_task(name, tmp_path):
    for model in ("qwen2.5-coder-0.5b", "smollm2-135m"):
        require_model(model)
    task = next(t for t in load_tasks(TASKS) if t.name == name)
    ctask = code_task(task)
    assert "check.ts" not in ctask.support
    cfg = EngineConfig(n_ctx=2048, n_threads=1, sessions_dir=tmp_path / "s", turn_timeout_s=300)
    budget = 5000
    async with HotSwapEngine(cfg) as engine:
        await engine.load_model("qwen2.5-coder-0.5b", "coder")
        await engine.load_model("smollm2-135m", "helper")
        executors = {r: engine.executor(r) for r in engine.roles()}
        rates = PassRates()
        plan = plan_roles(executors, rates)
        assert plan.primary == "coder"  # unmeasured: the larger model leads
        ledger = TokenLedger()
        eng = EvidenceEngine(executors=executors, plan=plan, ledger=ledger,
                             verifier=Verifier(ctask, config=VerifierConfig(lint=False)),
                             config=EvidenceConfig(samples=1, repair_rounds=1,
                                                   token_budget=budget, max_tokens=300))
        result = await eng.solve(ctask)
    assert ledger.calls >= 1 and ledger.total_tokens > 0
    assert ledger.total_tokens < budget + 2 * 2048  # the last call may overrun by one reply
    assert all(c.id in result.evidence for c in result.candidates)
    assert all(c.model_id for c in result.candidates)
    if result.candidates:
        assert result.chosen is not None
        chosen = result.evidence[result.chosen.id]
        if any(e.passes_all for e in result.evidence.values()):
            assert chosen.passes_all
        if any(e.compiles and not e.unchanged for e in result.evidence.values()):
            assert chosen.compiles
