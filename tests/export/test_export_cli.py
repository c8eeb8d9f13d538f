"""`logomesh-tui export SESSION --format F -o PATH`."""

from __future__ import annotations

import json

from datasets import load_dataset

from logomesh_tui.cli.main import main


def test_export_to_an_explicit_folder(session, sessions_dir, tmp_path, capsys):
    out = tmp_path / "out" / "sft"
    assert main(["--sessions-dir", str(sessions_dir), "export", session.session_id,
                 "--format", "openai-chat", "-o", str(out)]) == 0
    assert f"exported 13 openai-chat records from session {session.session_id}" in \
        capsys.readouterr().out
    assert sorted(p.name for p in out.iterdir()) == ["README.md", "train.jsonl"]
    assert load_dataset("json", data_files=str(out / "train.jsonl"), split="train").num_rows == 13


def test_export_by_prefix_into_the_export_folder(session, sessions_dir, tmp_path, capsys):
    assert main(["--sessions-dir", str(sessions_dir), "export", "20261125-12",
                 "--format", "training-data", "--name", "refactor run", "--no-card"]) == 0
    folder = tmp_path / "exports" / "refactor-run"
    assert sorted(p.name for p in folder.iterdir()) == ["metadata.json", "train.jsonl"]
    assert "also wrote" in capsys.readouterr().out


def test_export_cli_errors_exit_codes_with_one_line(session, sessions_dir, tmp_path, capsys):
    """Bad input (unknown session, unsafe name, bad option, existing export) exits 2; an
    export with nothing to write exits 1."""
    base = ["--sessions-dir", str(sessions_dir), "export"]
    assert main(base + ["missing-session"]) == 2
    assert capsys.readouterr().err.startswith("error: no session 'missing-session'")
    assert main(base + [session.session_id, "--name", "../escape"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "path separator" in err
    assert main(base + [session.session_id, "--format", "dpo", "--dpo-margin", "0.95"]) == 1
    assert "no two proposals are separated" in capsys.readouterr().err
    assert main(base + [session.session_id, "--min-quality", "1.5"]) == 2
    assert "between 0 and 1" in capsys.readouterr().err
    # A second export to the same place needs --force.
    assert main(base + [session.session_id, "--format", "dpo"]) == 0
    assert main(base + [session.session_id, "--format", "dpo"]) == 2
    assert "already holds an export" in capsys.readouterr().err
    assert main(base + [session.session_id, "--format", "sharegpt", "--force"]) == 0
    rec = json.loads((tmp_path / "exports" / session.session_id / "train.jsonl")
                     .read_text().splitlines()[0])
    assert "conversations" in rec


def test_export_a_session_file_by_path(session, tmp_path):
    out = tmp_path / "by-path"
    assert main(["export", str(session.path), "--format", "dpo", "-o", str(out),
                 "--content-only"]) == 0
    (rec,) = [json.loads(x) for x in (out / "train.jsonl").read_text().splitlines()]
    assert rec["chosen"][0]["content"] == session.ids["s1"].content
