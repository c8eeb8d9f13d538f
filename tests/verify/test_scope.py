"""A folder as a conversation's scope: sources, their imports, the tests that cover them."""

from __future__ import annotations

from pathlib import Path

import pytest

from logomesh_tui.conversation.session import read_inputs
from logomesh_tui.evidence.program import _first_ts
from logomesh_tui.verify.scope import ScopeError, read_scope

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "ts-project"


def test_a_folder_gives_its_sources_their_imports_and_covering_tests():
    scope = read_scope(FIXTURE / "src" / "cart", cwd=FIXTURE)
    assert [(f.kind, f.name) for f in scope.files] == [
        ("source", "src/cart/index.ts"), ("source", "src/cart/total.ts"),
        ("test", "src/cart/__tests__/total.test.ts")]
    assert scope.project is not None and scope.project.root == FIXTURE
    total = scope.files[1]
    # The alias resolves to the project's file outside the folder.
    assert ("@/lib/money", "src/lib/money.ts (outside the scope)") in total.imports
    index = scope.files[0]
    assert index.imports == [("./total", "src/cart/total.ts")]
    outline = scope.outline()
    assert "test src/cart/__tests__/total.test.ts" in outline
    assert "imports @/lib/money -> src/lib/money.ts (outside the scope)" in outline
    assert set(scope.texts()) == {f.name for f in scope.files}


def test_the_budget_leaves_files_out_but_the_outline_names_them():
    scope = read_scope(FIXTURE / "src", budget_chars=700, cwd=FIXTURE)
    left = scope.left_out()
    assert left and all(name not in scope.texts() for name in left)
    assert sum(len(t) for t in scope.texts().values()) <= 700
    assert f"{left[0]} [not attached: over the context budget]" in scope.outline()


def test_a_package_import_is_named_as_one(tmp_path):
    (tmp_path / "a.ts").write_text('import { z } from "zod";\nimport { b } from "./b";\n'
                                   'export const a = z.string().parse(b);\n')
    (tmp_path / "b.ts").write_text('export const b = "b";\n')
    scope = read_scope(tmp_path, cwd=tmp_path)
    assert scope.project is None
    assert scope.files[0].imports == [("zod", "package"), ("./b", "b.ts")]


def test_a_folder_without_sources_or_a_missing_one_is_a_clear_error(tmp_path):
    (tmp_path / "notes.md").write_text("hi\n")
    with pytest.raises(ScopeError, match="holds no .ts or .tsx source files"):
        read_scope(tmp_path)
    with pytest.raises(ScopeError, match="is not a folder"):
        read_scope(tmp_path / "missing")


def test_inputs_take_folders_and_the_evidence_task_is_a_source_not_a_test(monkeypatch):
    monkeypatch.chdir(FIXTURE)
    inputs, outline = read_inputs(["src/cart"])
    assert list(inputs) == ["src/cart/index.ts", "src/cart/total.ts",
                            "src/cart/__tests__/total.test.ts"]
    assert outline.startswith(f"SCOPE {FIXTURE / 'src' / 'cart'} (project {FIXTURE})")
    tests_first = {"src/cart/__tests__/total.test.ts": "x", "src/lib/money.test.ts": "y",
                   "src/cart/total.ts": "z"}
    assert _first_ts(tests_first) == ("src/cart/total.ts", "z")


def test_a_prompt_attaches_the_files_and_folders_it_names_with_at(tmp_path):
    from logomesh_tui.conversation.session import mentioned_paths

    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "a.ts").write_text("export const a = 1;\n")
    prompt = ("Review @src/a.ts, then @src. Not @/components/x (an alias), not "
              "mail@example.com, not @missing.ts")
    assert mentioned_paths(prompt, cwd=tmp_path) == ["src/a.ts", "src"]
