"""Export safety: names stay inside the export folder, writes are atomic, secrets never land."""

from __future__ import annotations

import json
import os
import string
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sessions_fixture import four_round_session

from logomesh_tui.config import EngineConfig, RemoteEndpoint
from logomesh_tui.errors import LogoMeshError
from logomesh_tui.export import (
    FORMATS,
    ExportNameError,
    SecretLeakError,
    SecretScrubber,
    export_session,
    load_session,
    safe_export_name,
)
from logomesh_tui.export.safety import atomic_write_bytes, path_inside


@pytest.mark.parametrize("name", [
    "../evil", "../../etc/passwd", "/etc/passwd", "/tmp/x", "a/b", "a\\b", "..", ".",
    ".hidden", "~/x", "C:\\x", "c:x", "", "   ", "\x00x", "!!!", "---",
])
def test_bad_export_names_are_refused(name):
    with pytest.raises(ExportNameError):
        safe_export_name(name)


@pytest.mark.parametrize("name,safe", [
    ("multi-model-refactor-session", "multi-model-refactor-session"),
    ("my session!", "my-session"),
    ("résumé v2", "r-sum-v2"),
    ("run..1", "run.1"),
    ("a" * 300, "a" * 100),
    ("x$(rm -rf)", "x-rm-rf"),
])
def test_odd_characters_are_made_safe(name, safe):
    assert safe_export_name(name) == safe


@given(st.text(min_size=1, max_size=80))
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
def test_any_name_is_refused_or_lands_inside(tmp_path, name):
    root = tmp_path / "exports"
    try:
        target = path_inside(root, name)
    except ExportNameError as exc:
        assert str(exc) and "\n" not in str(exc)
        return
    assert target.parent == root
    assert target.resolve().is_relative_to(root.resolve())
    assert set(target.name) <= set(string.ascii_letters + string.digits + "._-")


def test_symlink_out_of_the_export_folder_is_refused(tmp_path, session, sessions_dir):
    root = tmp_path / "exports"
    root.mkdir()
    outside = tmp_path / "outside"
    outside.mkdir()
    (root / "sneaky").symlink_to(outside)
    with pytest.raises(ExportNameError, match="outside the export folder"):
        export_session(session.session_id, "openai-chat", sessions_dir=sessions_dir,
                       exports_dir=root, name="sneaky")
    assert list(outside.iterdir()) == []


def test_command_language_name_goes_into_the_export_folder(tmp_path, session, sessions_dir):
    with pytest.raises(ExportNameError, match="path separator"):
        export_session(session.session_id, "training-data", sessions_dir=sessions_dir,
                       name="multi-model refactor/../session")
    report = export_session(session.session_id, "training-data", sessions_dir=sessions_dir,
                            name="multi-model refactor")
    assert report.folder == tmp_path / "exports" / "multi-model-refactor"
    assert sorted(p.name for p in report.folder.iterdir()) == ["README.md", "metadata.json",
                                                               "train.jsonl"]


def test_existing_export_is_kept_unless_overwrite(session, sessions_dir, tmp_path):
    first = export_session(session.session_id, "dpo", sessions_dir=sessions_dir, name="x")
    before = first.data_file.read_bytes()
    with pytest.raises(LogoMeshError, match="already holds an export"):
        export_session(session.session_id, "openai-chat", sessions_dir=sessions_dir, name="x")
    assert first.data_file.read_bytes() == before
    again = export_session(session.session_id, "openai-chat", sessions_dir=sessions_dir,
                           name="x", overwrite=True)
    assert again.data_file.read_bytes() != before
    assert sorted(p.name for p in again.folder.iterdir()) == ["README.md", "train.jsonl"]


def test_crash_during_write_leaves_the_old_file_and_no_temp(tmp_path, monkeypatch):
    target = tmp_path / "out" / "train.jsonl"
    atomic_write_bytes(target, b"old\n")

    def boom(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError, match="disk full"):
        atomic_write_bytes(target, b"new\n" * 1000)
    assert target.read_bytes() == b"old\n"
    assert [p.name for p in target.parent.iterdir()] == ["train.jsonl"]


def test_torn_last_line_is_ignored(session, sessions_dir):
    complete = len(load_session(session.session_id, sessions_dir).messages)
    with session.path.open("ab") as f:
        f.write(b'{"seq": 999, "kind": "message", "session_id": "x", "data": {"from": "pri')
    view = load_session(session.session_id, sessions_dir)
    assert view.torn_tail and len(view.messages) == complete
    report = export_session(view, "openai-chat")
    assert report.records == complete
    assert "torn last line" in report.summary()


def _all_text(folder: Path) -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted(folder.rglob("*"))
                     if p.is_file())


def test_secrets_from_config_and_environment_never_appear(tmp_path, sessions_dir,
                                                         monkeypatch):
    remote_key = "rk-9f8e7d6c5b4a"
    openai_key = "sk-abcdefghijklmnopqrstuvwxyz012345"
    hf_token = "hf_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789"
    short_configured = "k3y"
    monkeypatch.setenv("LAB_SERVER_KEY", remote_key)      # named by the config, no suffix
    monkeypatch.setenv("TINY_KEY", short_configured)      # configured, shorter than 8
    monkeypatch.setenv("OPENAI_API_KEY", openai_key)
    monkeypatch.setenv("HF_TOKEN", hf_token)
    config = EngineConfig(remotes=[
        RemoteEndpoint(name="lab", base_url="http://lab:8080/v1", model="m",
                       api_key_env="LAB_SERVER_KEY"),
        RemoteEndpoint(name="tiny", base_url="http://t/v1", model="m", api_key_env="TINY_KEY"),
    ])
    leak = f"{remote_key} {openai_key} {hf_token} tok={short_configured}"
    b = four_round_session(sessions_dir, secret_in_text=leak)
    # Secrets also in the task prompt and in a role name.
    for fmt in FORMATS:
        report = export_session(b.session_id, fmt, sessions_dir=sessions_dir, config=config,
                                name=f"s-{fmt}")
        text = _all_text(report.folder)
        for secret in (remote_key, openai_key, hf_token, short_configured):
            assert secret not in text, (fmt, secret)
        if fmt != "dpo":  # the leaking turn is not a DPO candidate
            assert "[REDACTED]" in text
        for line in report.data_file.read_text().splitlines():
            json.loads(line)  # still valid JSON


def test_key_shapes_are_scrubbed_without_configuration():
    s = SecretScrubber([])
    assert s.scrub_text("use sk-ABCDEFGHIJKLMNOPQRSTUVWX now") == "use [REDACTED] now"


def test_a_secret_that_survives_scrubbing_blocks_the_write(tmp_path, sessions_dir,
                                                           monkeypatch):
    # A "secret" equal to the replacement marker cannot be scrubbed: refuse to write.
    monkeypatch.setenv("WEIRD_TOKEN", "[REDACTED]")
    b = four_round_session(sessions_dir, secret_in_text="[REDACTED]")
    with pytest.raises(SecretLeakError):
        export_session(b.session_id, "openai-chat", sessions_dir=sessions_dir, name="blocked")
    assert not (tmp_path / "exports" / "blocked" / "train.jsonl").exists()


secret_text = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)),
                      min_size=8, max_size=40).filter(lambda s: s.strip() == s and "REDACTED"
                                                      not in s)


@given(secret=secret_text)
@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
def test_any_environment_secret_is_kept_out(tmp_path_factory, secret):
    root = tmp_path_factory.mktemp("fuzz")
    b = four_round_session(root / "sessions", secret_in_text=secret)
    environ = {"SERVICE_API_KEY": secret}
    try:
        report = export_session(b.session_id, "training-data", sessions_dir=root / "sessions",
                                exports_dir=root / "exports", environ=environ)
    except SecretLeakError:
        assert not (root / "exports" / b.session_id / "train.jsonl").exists()
        return
    text = _all_text(report.folder)
    for form in SecretScrubber([secret]).forms(secret):
        assert form not in text
