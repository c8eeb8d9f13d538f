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
    assert "no two proposals by peer votes" in capsys.readouterr().err
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


def test_export_output_that_cannot_be_a_folder_is_one_line_exit_2(session, sessions_dir,
                                                                   tmp_path, capsys):
    """-o under a regular file, an existing file, or a folder nothing can be written in
    (/proc/self): exit 2 with one line that names the path and says to choose another."""
    base = ["--sessions-dir", str(sessions_dir), "export", session.session_id]
    plain = tmp_path / "somefile.txt"
    plain.write_text("not a folder\n")
    for out in (plain / "out.jsonl", plain / "a" / "b", plain, "/proc/self"):
        assert main(base + ["-o", str(out)]) == 2, out
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and err.startswith("error: "), err
        assert "Traceback" not in err and str(out) in err and "-o PATH" in err
    assert plain.read_text() == "not a folder\n"


def test_export_write_failure_in_the_export_folder_is_one_line(session, sessions_dir,
                                                               tmp_path, monkeypatch, capsys):
    """The default export folder under a regular file fails when writing: still one line."""
    blocker = tmp_path / "blocker"
    blocker.write_text("")
    monkeypatch.setenv("LOGOMESH_EXPORTS_DIR", str(blocker / "exports"))
    assert main(["--sessions-dir", str(sessions_dir), "export", session.session_id]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cannot write the export" in err


def test_export_a_session_file_by_relative_path_outside_the_sessions_folder(
        session, tmp_path, monkeypatch, capsys):
    """SESSION may be a path to a session .jsonl file anywhere (relative to the working
    folder, or with ~), not only in the sessions folder; the file's name is its id."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    copy = elsewhere / "copied run.jsonl"  # not a valid id: read as a file, not looked up
    copy.write_bytes(session.path.read_bytes())
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path))
    for n, given in enumerate(("elsewhere/copied run.jsonl", "~/elsewhere/copied run.jsonl",
                               str(copy))):
        out = tmp_path / "out" / str(n)
        assert main(["--sessions-dir", str(tmp_path / "empty"), "export", given,
                     "--format", "openai-chat", "-o", str(out)]) == 0, capsys.readouterr().err
        assert "exported 13 openai-chat records from session copied run" in \
            capsys.readouterr().out
        assert len((out / "train.jsonl").read_text().splitlines()) == 13


def test_export_session_paths_that_are_not_session_files(session, sessions_dir, tmp_path,
                                                        capsys):
    """A path that does not exist, a folder, a file without .jsonl, or a .jsonl file with no
    session event: one line, exit 2. Ids still go through the safe-name check."""
    base = ["--sessions-dir", str(sessions_dir), "export"]
    other = tmp_path / "other.jsonl"
    other.write_text('{"hello": "world"}\n')
    text = tmp_path / "notes.txt"
    text.write_text(session.path.read_text())
    cases = [(str(tmp_path / "missing.jsonl"), "does not exist"),
             (str(tmp_path), "is not a file"),
             (str(text), "does not end in .jsonl"),
             (str(other), "is not a session file"),
             ("../" + session.session_id + ".jsonl", "does not exist")]
    for given, why in cases:
        assert main(base + [given, "-o", str(tmp_path / "out")]) == 2, given
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and why in err and given in err, err
    assert not (tmp_path / "out").exists()
    # A bare name is an id: looked up in the sessions folder, never read from elsewhere.
    assert main(base + ["..", "-o", str(tmp_path / "out")]) == 2
    assert "invalid session id" in capsys.readouterr().err
