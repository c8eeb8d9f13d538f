"""The DevShell against real GGUF models in worker processes (smollm2-135m, gemma-3-270m)."""

from __future__ import annotations

import io
import json

import pytest
from datasets import load_dataset
from rich.console import Console

from logomesh_tui.cli.shell import run_commands

pytestmark = pytest.mark.real


async def test_load_hotswap_list_unload_with_real_workers(real_config, capsys):
    rc = await run_commands(
        'llm.registry.load("smollm2-135m", "documentation-writer"); '
        'llm.registry.hotswap("documentation-writer", "gemma-3-270m"); '
        "llm.registry.list(); llm.registry.memory(); "
        'llm.registry.unload("documentation-writer"); llm.registry.list()',
        real_config, console=Console(file=io.StringIO()))
    out = capsys.readouterr()
    assert rc == 0, out.err
    lines = out.out.splitlines()
    assert lines[0].startswith("loaded smollm2-135m as documentation-writer")
    assert lines[1].startswith("swapped documentation-writer: smollm2-135m -> gemma-3-270m in ")
    row = next(line for line in lines if line.startswith("documentation-writer "))
    assert "gemma-3-270m" in row and "ready" in row and " MB" in row
    assert lines[-1].startswith("no models loaded")


async def test_real_conversation_is_exported_as_training_data(real_config, tmp_path, capsys,
                                                              monkeypatch):
    monkeypatch.setenv("LOGOMESH_EXPORTS_DIR", str(tmp_path / "exports"))
    rc = await run_commands(
        'llm.registry.load("smollm2-135m", "primary-analyzer"); '
        'llm.registry.load("smollm2-135m", "architecture-critic"); '
        'conversation.start("Why does a React useEffect need a dependency array?", '
        'protocol="round-robin", max_rounds=1, arbitration="highest-score"); '
        'conversation.export("real-session", format="training-data")',
        real_config, console=Console(file=io.StringIO()))
    out = capsys.readouterr()
    assert rc == 0, out.err
    data = tmp_path / "exports" / "real-session" / "train.jsonl"
    ds = load_dataset("json", data_files=str(data), split="train")
    assert ds.num_rows >= 1
    for row in ds:
        assert row["model_id"] == "smollm2-135m"
        assert row["prompt_reconstructed"] is False  # the orchestrator recorded the real chat
        assert {m["role"] for m in row["prompt"]} <= {"system", "user", "assistant"}
        assert row["prompt"][-1]["role"] == "user" and row["response"]
        assert row["completion_tokens"] > 0 and 0 <= row["quality"]["rating"] <= 1
    meta = json.loads((data.parent / "metadata.json").read_text())
    assert meta["protocol"] == "round-robin"
