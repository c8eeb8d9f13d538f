"""The evidence the refactor rests on, with the real tools: eslint findings, the behaviour
harness (node + jsdom + react-dom in the sandbox), search/replace edits."""

from __future__ import annotations

import pytest

from logomesh_tui.codepipe.edits import Edit, edits_from_reply, excerpt_range, lines_of
from logomesh_tui.verify.harness import compare, run_behaviour, runtime_problems
from logomesh_tui.verify.lint import lint_sources
from logomesh_tui.verify.toolchain import ensure_checks
from tests.codepipe.scripted import FIXED, FIXTURES

COUNTER = (FIXTURES / "Counter.tsx").read_text()
LEGACY = (FIXTURES / "Legacy.tsx").read_text()


@pytest.fixture(scope="module")
def checks():
    return ensure_checks()


@pytest.mark.toolchain
def test_lint_finds_hook_and_type_problems_with_lines(checks):
    found = {(f.rule, f.line) for f in lint_sources({"Legacy.tsx": LEGACY}, checks=checks)}
    assert ("@typescript-eslint/no-explicit-any", 3) in found
    assert ("react-hooks/set-state-in-effect", 7) in found
    assert ("react-hooks/exhaustive-deps", 8) in found
    floating = lint_sources({"F.ts": "async function f() { return 1; }\nf();\n"}, checks=checks)
    assert [(f.rule, f.line) for f in floating] == [("@typescript-eslint/no-floating-promises", 2)]
    assert any(s.replacement == "void " for s in floating[0].suggestions)


@pytest.mark.toolchain
async def test_the_harness_derives_a_script_and_records_each_step(checks):
    run = await run_behaviour({"Counter.tsx": COUNTER}, "Counter.tsx", checks=checks)
    assert run.ok and run.settled and run.clean, run.error
    actions = [s.action["do"] for s in run.steps]
    assert actions[0] == "mount" and "click" in actions and actions[-1] == "unmount"
    mount, click = run.steps[0], run.steps[actions.index("click")]
    assert "(x2 = " in mount.html and mount.html != click.html
    # The effect copies state: the click renders twice; the fixed version renders once, same DOM.
    assert click.renders == 2
    fixed = await run_behaviour({"Counter.tsx": FIXED}, "Counter.tsx", script=run.as_script(),
                                checks=checks)
    assert compare(run, fixed) == (True, "")
    assert fixed.steps[actions.index("click")].renders == 1
    assert "runtime/extra-renders" in {r for r, _ in runtime_problems(run)}
    assert "runtime/extra-renders" not in {r for r, _ in runtime_problems(fixed)}
    changed = await run_behaviour({"Counter.tsx": FIXED.replace("count * 2", "count * 3")},
                                  "Counter.tsx", script=run.as_script(), checks=checks)
    same, why = compare(run, changed)
    assert not same and "DOM differs" in why


LOOP = """import { useEffect, useState } from "react";
export default function Loop(props: { apiBase: string }) {
  const [items, setItems] = useState<string[]>([]);
  const options = { headers: { Accept: "application/json" } };
  useEffect(() => {
    const id = setInterval(() => undefined, 1000);
    void fetch(`${props.apiBase}/items`, options).then((r) => r.json())
      .then((d: { items: string[] }) => setItems(d.items));
    return undefined && clearInterval(id);
  }, [options, props.apiBase]);
  return <ul>{items.map((x) => <li key={x}>{x}</li>)}</ul>;
}
"""


@pytest.mark.toolchain
async def test_a_component_that_never_settles_and_leaks_timers_is_a_finding(checks):
    script = {"api": [{"match": "/items", "json": {"items": ["a", "b"]}}]}
    run = await run_behaviour({"Loop.tsx": LOOP}, "Loop.tsx", script=script, checks=checks)
    assert run.ok, run.error
    assert run.props == {"apiBase": "/api"}
    assert not run.steps[0].settled and run.steps[0].api.count("GET /api/items") > 3
    assert "<li>a</li><li>b</li>" in run.steps[0].html
    rules = {r for r, _ in runtime_problems(run)}
    assert {"runtime/never-settles", "runtime/timers-left-running"} <= rules


@pytest.mark.toolchain
async def test_a_hanging_component_is_killed(checks):
    hang = "export function Hang() { while (true) { /* spin */ } return null; }\n"
    run = await run_behaviour({"Hang.tsx": hang}, "Hang.tsx", checks=checks, timeout_s=8)
    assert not run.ok and "timed out" in run.error


@pytest.mark.toolchain
async def test_a_render_loop_is_reported(checks):
    src = """import { useState } from "react";
export function Spin() { const [n, setN] = useState(0); setN(n + 1); return <p>{n}</p>; }
"""
    run = await run_behaviour({"Spin.tsx": src}, "Spin.tsx", checks=checks)
    problems = runtime_problems(run)
    assert any(r in ("runtime/render-loop", "runtime/error", "runtime/crash")
               and ("Too many re-renders" in m or "Maximum update depth" in m or "loop" in m)
               for r, m in problems), problems


def test_excerpt_covers_the_hook_and_edits_apply_exactly_once():
    a, b = excerpt_range(COUNTER, 7, hook=True)
    assert (a, b) == (6, 8)
    assert lines_of(COUNTER, a, b).lstrip().startswith("useEffect(")
    assert excerpt_range(LEGACY, 3) == (3, 3) or excerpt_range(LEGACY, 3)[1] - \
        excerpt_range(LEGACY, 3)[0] < 30
    reply = ("```tsx\n  useEffect(() => {\n    setDoubled(count * 2);\n  }, [count]);\n```\n"
             "<<<<<<< SEARCH\nconst x = 1;\n=======\nconst x = 2;\n>>>>>>> REPLACE\n")
    options = edits_from_reply(reply, lines_of(COUNTER, a, b))
    assert [len(o) for o in options] == [1]  # the fenced block repeats the lines unchanged
    assert Edit("const x = 1;", "const x = 2;").apply("const x = 1;\nconst x = 1;") is None
    assert Edit("abc", "abXc").size == 1


def test_an_unstable_dependency_is_memoized_with_an_empty_list_for_the_lint_to_fill():
    from logomesh_tui.codepipe.edits import ensure_react_imports, memoize_declaration

    src = ('import { useEffect } from "react";\nexport function A(p: { id: number }) {\n'
           '  const opts = { id: p.id };\n  const run = () => opts;\n'
           '  useEffect(() => { run(); }, [run]);\n  return null;\n}\n')
    memo = ensure_react_imports(memoize_declaration(src, 3, 3))
    assert "const opts = useMemo(() => ({ id: p.id }), []);" in memo
    assert memo.startswith('import { useEffect, useMemo } from "react";')
    cb = memoize_declaration(src, 4, 4)
    assert "const run = useCallback(() => opts, []);" in cb
    assert memoize_declaration(src, 6, 6) is None  # not a declaration


def test_a_timer_started_in_an_effect_gets_a_cleanup():
    from logomesh_tui.codepipe.edits import clear_timer_in_effect

    src = ("import { useEffect } from 'react';\nexport function T() {\n  useEffect(() => {\n"
           "    setInterval(() => undefined, 1000);\n  }, []);\n  return null;\n}\n")
    out = clear_timer_in_effect(src, 4)
    assert "    const timer = setInterval(() => undefined, 1000);\n" \
           "    return () => clearInterval(timer);\n  }, []);" in out
    # An effect that already returns something is left to the models.
    assert clear_timer_in_effect(src.replace("  }, []);", "    return undefined;\n  }, []);"),
                                 4) is None
