"""End to end with a real small model (smollm2-135m in real worker processes) and real tsc."""

from __future__ import annotations

from pathlib import Path

import pytest

from logomesh_tui.codepipe.pipeline import RefactorOptions, run_refactor
from logomesh_tui.codepipe.report import write_output
from logomesh_tui.pool.engine import HotSwapEngine
from logomesh_tui.verify.compiler import typecheck_sources

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.mark.real
async def test_refactor_a_small_component_with_smollm2(real_config, toolchain, tmp_path):
    async with HotSwapEngine(real_config) as engine:
        for role in ("primary-analyzer", "optimization-specialist"):
            await engine.load_model("smollm2-135m", role)
        executors = {r: engine.executor(r) for r in engine.roles()}
        result = await run_refactor(
            executors, FIXTURES / "Counter.tsx", toolchain=toolchain,
            options=RefactorOptions(max_iterations=1, proposal_repairs=1, max_reply_tokens=200))
    report = write_output(result, tmp_path / "out").read_text()
    assert result.messages, "the model was never asked anything"
    assert all(m.model_id == "smollm2-135m" for m in result.messages)
    out = (tmp_path / "out" / "refactored" / "Counter.tsx").read_text()
    # Whatever the 135M model managed, what is presented compiles.
    assert typecheck_sources(toolchain, {"Counter.tsx": out}).ok
    if result.accepted:
        assert out != result.files_before["Counter.tsx"]
        assert "the result compiles" in report
    else:
        assert out == result.files_before["Counter.tsx"]
        assert "unchanged" in report
