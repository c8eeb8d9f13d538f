"""`models show / rm / pull hf:...`: metadata and memory estimates before a download, removal,
Hub pulls verified against the Hub's LFS SHA-256, and offline errors that come fast and clear.

No hub is reachable here: the verify path uses a local file standing in for huggingface_hub's
cache and the Hub's metadata answer (the one thing that needs the network); the offline and
unreachable cases go through huggingface_hub itself."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from logomesh_tui.catalog import Catalog, pull, remove
from logomesh_tui.catalog.catalog import parse_hf_id
from logomesh_tui.catalog.gguf_meta import read_gguf_info
from logomesh_tui.cli.main import main
from logomesh_tui.errors import PullError, UnknownModelError
from tests.conftest import require_model

ROOT = Path(__file__).resolve().parents[2]
HF_ID = "hf:someone/Some-Model-GGUF/some-model-Q4_K_M.gguf"


def show(capsys, *args: str) -> dict:
    assert main(["models", "show", *args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def kv_bytes(meta: dict, n_ctx: int) -> int:
    head_dim = meta["n_embd"] // meta["n_head"]
    return 2 * meta["n_layer"] * n_ctx * meta["n_head_kv"] * head_dim * 2


def test_show_hub_model_before_any_download(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("LOGOMESH_MODELS_DIR", str(tmp_path))
    doc = show(capsys, "qwen2.5-coder-7b", "--n-ctx", "8192")
    assert doc["on_disk"] is False and doc["metadata_from"] == "catalog"
    meta, mem = doc["metadata"], doc["memory"]
    assert meta["arch"] == "qwen2" and mem["n_ctx"] == 8192
    assert mem["kv_cache_bytes"] == kv_bytes(meta, 8192)
    assert mem["total_bytes"] == (mem["weights_bytes"] + mem["repacked_bytes"]
                                  + mem["kv_cache_bytes"] + mem["compute_and_worker_bytes"])
    assert mem["weights_bytes"] == doc["size_bytes"]
    # a smaller window costs exactly the KV difference
    small = show(capsys, "qwen2.5-coder-7b", "--n-ctx", "2048")["memory"]
    assert mem["total_bytes"] - small["total_bytes"] == kv_bytes(meta, 8192) - kv_bytes(meta, 2048)


def test_show_caps_the_window_at_the_models_context(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("LOGOMESH_MODELS_DIR", str(tmp_path))
    doc = show(capsys, "phi-3.5-mini-4k", "--n-ctx", "100000")
    assert doc["n_ctx"] == doc["context_length"] == doc["memory"]["n_ctx"]


@pytest.mark.real
@pytest.mark.parametrize("name", ["smollm2-135m", "gemma-3-270m", "qwen2.5-coder-0.5b",
                                  "qwen2.5-coder-1.5b"])
def test_offline_models_catalog_facts_match_their_files(tmp_path, monkeypatch, capsys, name):
    """What `models show` says before a download equals what the real file says after."""
    path = require_model(name)
    info = read_gguf_info(path)
    monkeypatch.setenv("LOGOMESH_MODELS_DIR", str(tmp_path))  # not on disk there
    before = show(capsys, name, "--n-ctx", "2048")
    assert before["metadata_from"] == "catalog"
    assert before["metadata"]["n_layer"] == info.n_layer
    assert before["metadata"]["n_head_kv"] == info.n_head_kv
    assert before["memory"]["total_bytes"] == info.estimate_bytes(2048)


@pytest.mark.real
def test_show_on_disk_reads_the_file(capsys):
    path = require_model("smollm2-135m")
    doc = show(capsys, "smollm2-135m")
    assert doc["on_disk"] and doc["metadata_from"] == "file" and doc["path"] == str(path)
    assert doc["memory"]["total_bytes"] == read_gguf_info(path).estimate_bytes(doc["n_ctx"])
    assert main(["models", "show", "smollm2-135m"]) == 0
    assert "memory at n_ctx" in capsys.readouterr().out


@pytest.mark.real
def test_show_a_gguf_path(capsys):
    path = require_model("smollm2-135m")
    doc = show(capsys, str(path), "--n-ctx", "1024")
    assert doc["metadata"]["arch"] == "llama" and doc["memory"]["n_ctx"] == 1024


@pytest.mark.parametrize("bad", ["hf:just-a-repo", "hf:o/r/notgguf.bin", "hf:o/../x/f.gguf",
                                 "hf:o/r/../../f.gguf", "hf:o/r/a b.gguf"])
def test_bad_hf_ids_are_refused(bad):
    with pytest.raises(UnknownModelError) as exc:
        parse_hf_id(bad)
    assert "\n" not in str(exc.value)


def test_hf_id_lives_inside_the_models_folder(tmp_path):
    catalog = Catalog(tmp_path)
    spec = catalog.get(HF_ID)
    path = catalog.path_for(spec)
    assert path == tmp_path / "hf" / "someone" / "Some-Model-GGUF" / "some-model-Q4_K_M.gguf"
    assert spec.quant == "Q4_K_M"


@pytest.fixture
def fake_hub(tmp_path, monkeypatch):
    """A huggingface_hub cache with one blob and a snapshot link to it, and the Hub's recorded
    SHA-256 for it (set ``hub.sha`` to what the Hub should say)."""
    data = os.urandom(300_000)
    cache = tmp_path / "hf-cache"
    blob = cache / "blobs" / hashlib.sha256(data).hexdigest()
    blob.parent.mkdir(parents=True)
    snapshot = cache / "snapshots" / "abc" / "some-model-Q4_K_M.gguf"
    snapshot.parent.mkdir(parents=True)
    hub = SimpleNamespace(sha=hashlib.sha256(data).hexdigest(), downloads=0, blob=blob)

    def download(repo_id, filename, revision=None, **kw):
        assert (repo_id, filename) == ("someone/Some-Model-GGUF", "some-model-Q4_K_M.gguf")
        blob.write_bytes(data)
        snapshot.unlink(missing_ok=True)
        snapshot.symlink_to(blob)
        hub.downloads += 1
        return str(snapshot)

    def paths_info(self, repo_id, paths, revision=None, **kw):
        return [SimpleNamespace(path=paths[0], lfs=SimpleNamespace(sha256=hub.sha))]

    import huggingface_hub

    monkeypatch.setattr(huggingface_hub, "hf_hub_download", download)
    monkeypatch.setattr(huggingface_hub.HfApi, "get_paths_info", paths_info)
    monkeypatch.setattr(sys.modules["logomesh_tui.catalog.pull"], "_hub_offline", lambda: False)
    return hub


def test_hf_pull_verifies_and_links_the_cached_file(tmp_path, fake_hub):
    catalog = Catalog(tmp_path / "models")
    path = pull(catalog, HF_ID)
    assert path.is_symlink() and path.resolve() == fake_hub.blob.resolve()
    assert HF_ID in catalog.on_disk_names()
    assert pull(catalog, HF_ID) == path and fake_hub.downloads == 1  # already on disk
    gone = remove(catalog, HF_ID)
    assert path in gone and not path.exists() and not fake_hub.blob.exists()


def test_hf_pull_with_the_wrong_checksum_keeps_nothing(tmp_path, fake_hub):
    fake_hub.sha = "0" * 64
    catalog = Catalog(tmp_path / "models")
    with pytest.raises(PullError) as exc:
        pull(catalog, HF_ID)
    assert "checksum mismatch" in str(exc.value) and "\n" not in str(exc.value)
    assert not catalog.path_for(catalog.get(HF_ID)).exists() and not fake_hub.blob.exists()


def test_hf_pull_refuses_a_file_the_hub_cannot_vouch_for(tmp_path, fake_hub):
    fake_hub.sha = None
    with pytest.raises(PullError, match="cannot be verified"):
        pull(Catalog(tmp_path / "models"), HF_ID)
    assert fake_hub.downloads == 0


def cli(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "logomesh_tui", *args], capture_output=True,
                          text=True, timeout=300,
                          env={**os.environ, "PYTHONPATH": str(ROOT), **env})


@pytest.mark.toolchain
def test_pull_with_hf_hub_offline_says_so(tmp_path):
    p = cli("models", "pull", HF_ID, HF_HUB_OFFLINE="1", LOGOMESH_MODELS_DIR=str(tmp_path))
    assert p.returncode == 1
    error = p.stderr.splitlines()[-1]
    assert error.startswith("error: cannot pull hf:someone/Some-Model-GGUF")
    assert "HF_HUB_OFFLINE is set" in error and "available offline: smollm2-135m" in error
    assert not list(tmp_path.rglob("*.gguf"))


@pytest.mark.toolchain
def test_pull_without_a_reachable_hub_says_so(tmp_path):
    """No hub is reachable from here: huggingface_hub's own request fails and becomes one line
    (a proxy in HTTPS_PROXY would be used by the same request)."""
    p = cli("models", "pull", "qwen2.5-coder-7b", LOGOMESH_MODELS_DIR=str(tmp_path),
            HF_HUB_ETAG_TIMEOUT="3", HF_HUB_DOWNLOAD_TIMEOUT="3")
    assert p.returncode == 1
    error = p.stderr.splitlines()[-1]
    assert error.startswith("error: cannot pull qwen2.5-coder-7b") and "available offline" in error


def test_rm_catalog_model_and_leftovers(tmp_path):
    models = tmp_path / "models"
    models.mkdir()
    (models / "gemma-3-270m.gguf").write_bytes(b"GGUF")
    (models / "gemma-3-270m.gguf.partial").write_bytes(b"GG")
    (models / "gemma-3-270m.gguf.staging").mkdir()
    catalog = Catalog(models)
    gone = remove(catalog, "gemma-3-270m")
    assert {p.name for p in gone} == {"gemma-3-270m.gguf", "gemma-3-270m.gguf.partial",
                                      "gemma-3-270m.gguf.staging"}
    assert list(models.iterdir()) == []


def test_rm_through_the_cli(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("LOGOMESH_MODELS_DIR", str(tmp_path))
    (tmp_path / "smollm2-135m.gguf").write_bytes(b"GGUF")
    assert main(["models", "rm", "smollm2-135m"]) == 0
    assert "removed" in capsys.readouterr().out
    assert main(["models", "rm", "smollm2-135m"]) == 2
    assert main(["models", "rm", "remote:nothing"]) == 2
    assert not (tmp_path / "smollm2-135m.gguf").exists()
