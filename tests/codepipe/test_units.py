"""Pure logic of the code pipeline: tokenizer-based splitting, measures, patches, toolchain errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from logomesh_tui.codepipe.measures import main as measures_main
from logomesh_tui.codepipe.measures import measure_source
from logomesh_tui.source.patches import PatchError, apply_unified_diff, extract_change
from logomesh_tui.source.splitter import split_source
from logomesh_tui.verify import toolchain as tc
from logomesh_tui.verify.compiler import parse_diagnostics, safe_relpath

REPO = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).parent / "fixtures"
DASHBOARD = (REPO / "examples" / "Dashboard.tsx").read_text()


def test_dashboard_example_is_a_500_line_component_with_the_advertised_problems():
    m = measure_source(DASHBOARD, "Dashboard.tsx")
    assert 480 <= m.lines <= 560
    assert m.any_count == 10
    assert m.hooks_missing_deps >= 5 and m.hooks_unstable_deps >= 1
    assert m.effects_setting_state >= 3 and m.effects_without_cleanup == 1
    assert m.render_scope_array_work >= 4 and m.props_forwarded >= 5
    assert m.inline_function_props >= 5 and m.max_component_lines > 150
    assert "Dashboard:337:requestOptions" in m.unstable_deps
    assert any(d.endswith("props.orders") for d in m.missing_deps)


@pytest.mark.toolchain
def test_dashboard_example_compiles_under_strict(toolchain):
    from logomesh_tui.verify.compiler import typecheck_sources

    result = typecheck_sources(toolchain, {"Dashboard.tsx": DASHBOARD})
    assert result.ok, result.summary()


def test_measures_see_the_fix():
    before = measure_source((FIXTURES / "Legacy.tsx").read_text())
    after = measure_source((FIXTURES / "Legacy.fixed.tsx").read_text())
    assert (before.any_count, after.any_count) == (1, 0)
    assert (before.hooks_missing_deps, after.hooks_missing_deps) == (1, 0)
    assert before.missing_deps == ["Legacy:6:count"]


def test_measures_do_not_count_strings_comments_or_listed_deps():
    src = '''import { useEffect, useMemo, useRef, useState } from "react";
export function A({ id }: { id: string }) {
  // any in a comment
  const label = "any";
  const ref = useRef(0);
  const [n, setN] = useState(0);
  const opts = useMemo(() => ({ id }), [id]);
  useEffect(() => { ref.current = n; setN(1); fetch(`/x/${id}`); return () => {}; }, [n, id]);
  return <div title={label}>{opts.id}</div>;
}
'''
    m = measure_source(src)
    assert m.any_count == 0 and m.hooks_missing_deps == 0 and m.hooks_unstable_deps == 0
    assert m.inline_function_props == 0 and m.memo_hooks == 1


def test_measures_cli_prints_json(capsys):
    assert measures_main([str(FIXTURES / "Legacy.tsx"), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["any_count"] == 1 and data["components"] == 1
    assert measures_main([str(FIXTURES / "missing.tsx")]) == 1


@pytest.mark.parametrize("budget", [150, 400, 700, 3000])
def test_split_reassembles_exactly_and_respects_the_budget_where_it_can(budget):
    sf = split_source("Dashboard.tsx", DASHBOARD, max_chunk_tokens=budget)
    assert sf.assemble() == DASHBOARD
    assert [c.start for c in sf.chunks] == sorted(c.start for c in sf.chunks)
    kinds = {c.kind for c in sf.chunks}
    assert {"imports", "type", "component", "function"} <= kinds | {"part"}
    if budget <= 700:
        assert any(c.kind == "part" and c.parent == "Dashboard" for c in sf.chunks)


def test_split_keeps_braces_in_strings_templates_and_jsx_text_out_of_depth():
    src = ('const a = "}";\nconst b = `${"{"} }`;\nexport function C() {\n  return <p>Don\'t {a}</p>;\n}\n'
           "const re = /[{]/;\n")
    sf = split_source("x.tsx", src, max_chunk_tokens=1000)
    assert sf.assemble() == src
    assert [c.name for c in sf.chunks] == ["a", "b", "C", "re"]


def test_every_task_file_round_trips_through_the_splitter():
    for f in (REPO / "bench" / "tasks").rglob("*.ts"):
        text = f.read_text()
        assert split_source(f.name, text, max_chunk_tokens=60).assemble() == text, f


def test_unified_diff_applies_with_wrong_line_numbers_and_indentation():
    original = "a\nb\n  c\nd\n"
    diff = "--- a/x\n+++ b/x\n@@ -40,3 +40,3 @@\n b\n-c\n+C\n d\n"
    assert apply_unified_diff(original, diff) == "a\nb\nC\nd\n"
    with pytest.raises(PatchError):
        apply_unified_diff(original, "@@ -1 +1 @@\n-zzz\n+y\n")


def test_extract_change_takes_fenced_code_or_diffs_and_says_why_not():
    assert extract_change("text\n```tsx\nconst x = 1;\n```\nmore", "")[0] == "const x = 1;\n"
    text, how = extract_change("```diff\n@@ @@\n-a\n+b\n```", "a\n")
    assert (text, how) == ("b\n", "diff")
    text, how = extract_change("I would change things.", "a\n")
    assert text is None and "no fenced code block" in how
    # A reply cut off at max_tokens still yields its (partial) block.
    assert extract_change("```ts\nconst y = 2;", "")[0] == "const y = 2;\n"


def test_parse_diagnostics_joins_continuation_lines():
    out = ("a.tsx(3,5): error TS2322: Type 'string' is not assignable to type 'number'.\n"
           "  The expected type comes from here.\nerror TS5023: Unknown compiler option 'x'.\n")
    d = parse_diagnostics(out)
    assert [x.code for x in d] == [2322, 5023]
    assert d[0].line == 3 and "expected type" in d[0].message and d[1].file == ""


def test_safe_relpath_refuses_escapes():
    for bad in ("../x.ts", "/etc/passwd", "a/../../b.ts"):
        with pytest.raises(ValueError):
            safe_relpath(bad)
    assert safe_relpath("src/a.tsx") == Path("src/a.tsx")


def test_missing_node_or_npm_is_a_one_line_error(monkeypatch, tmp_path):
    monkeypatch.setattr(tc.shutil, "which", lambda name: None)
    with pytest.raises(tc.ToolchainError, match="node is not installed"):
        tc.ensure_tsc(tmp_path / "ts")
    monkeypatch.setattr(tc.shutil, "which", lambda name: "/usr/bin/node" if name == "node" else None)
    with pytest.raises(tc.ToolchainError, match="npm is not installed"):
        tc.ensure_tsc(tmp_path / "ts")
    with pytest.raises(tc.ToolchainError, match="not installed in"):
        tc.ensure_tsc(tmp_path / "ts", install=False)


def test_toolchain_module_is_runnable(capsys, toolchain):
    assert tc.main(["--dir", str(toolchain.root), "--check"]) == 0
    assert "TypeScript 7.0.2" in capsys.readouterr().out


def test_split_top_and_closing_bracket_skip_strings_templates_and_nested_brackets():
    from logomesh_tui.source.lexer import closing_bracket, split_top

    assert split_top('a, "b, c", [1, 2], `x, ${y}`') == ["a", ' "b, c"', " [1, 2]", " `x, ${y}`"]
    # Type arguments are brackets only when asked; an arrow's ">" never is.
    assert split_top("m: Map<string, number>, f: (x: T) => U", angles=True) == [
        "m: Map<string, number>", " f: (x: T) => U"]
    assert split_top("a < b, c") == ["a < b", " c"]
    text = 'f(a, ")", [1, 2]) rest'
    assert text[:closing_bracket(text, 1)] == 'f(a, ")", [1, 2])'
    assert closing_bracket("f(a", 1) == -1


def test_an_edit_set_may_name_other_files_of_the_scope_and_nothing_else():
    from logomesh_tui.codepipe.edits import apply_edit_set, edits_from_reply

    files = {"cart/total.ts": "var a = 1;\n", "lib/money.ts": "const b = 2;\n"}
    reply = ("<<<<<<< SEARCH\nvar a = 1;\n=======\nlet a = 1;\n>>>>>>> REPLACE\n"
             "`src/lib/money.ts`\n<<<<<<< SEARCH\nconst b = 2;\n=======\nconst b = 3;\n"
             ">>>>>>> REPLACE\n")
    (edits,) = edits_from_reply(reply, "")
    assert [e.file for e in edits] == [None, "src/lib/money.ts"]
    # "src/lib/money.ts" is not a key; it ends with one, so it stands for it.
    assert apply_edit_set(files, "cart/total.ts", [edits[0]])["cart/total.ts"] == "let a = 1;\n"
    both = apply_edit_set(files, "cart/total.ts", edits)
    assert both == {"cart/total.ts": "let a = 1;\n", "lib/money.ts": "const b = 3;\n"}
    outside = edits_from_reply(reply.replace("src/lib/money.ts", "lib/other.ts"), "")[0]
    why = apply_edit_set(files, "cart/total.ts", outside)
    assert isinstance(why, str) and why.startswith("the edit names lib/other.ts, which is not")
