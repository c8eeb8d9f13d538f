"""The findings-driven refactor with scripted fake models and the real checks: tsc, eslint, and
the behaviour harness (node + jsdom + react-dom in the sandbox)."""

from __future__ import annotations

import json

import pytest

from logomesh_tui.cli.main import main as cli_main
from logomesh_tui.codepipe.pipeline import InputError, RefactorOptions, run_refactor
from logomesh_tui.codepipe.report import write_output
from logomesh_tui.errors import WorkerCrashedError
from logomesh_tui.pool.fake import FakeBackend
from tests.codepipe.scripted import DERIVE, FIXED, FIXTURES, scripted

COUNTER = FIXTURES / "Counter.tsx"
TRIPLE = DERIVE.replace("const doubled = count * 2;", "const doubled = count * 3;")
BROKEN = DERIVE.replace("const doubled = count * 2;", "const doubled: string = count * 2;")


def pool(responder, n_ctx=4096):
    return {"primary-analyzer": FakeBackend("qwen2.5-coder-1.5b", n_ctx=n_ctx, responder=responder),
            "documentation-writer": FakeBackend("smollm2-135m", n_ctx=n_ctx, responder=responder)}


@pytest.mark.toolchain
async def test_the_fix_for_a_finding_is_kept_with_checked_docs(toolchain, tmp_path):
    result = await run_refactor(pool(scripted(DERIVE)), COUNTER, toolchain=toolchain)
    [change] = result.changes
    assert change.status == "accepted", change.reason
    assert change.finding.rule == "react-hooks/set-state-in-effect"
    assert change.final_from == "model greedy"
    assert result.files_after["Counter.tsx"] == FIXED
    assert result.compile_after.ok
    assert "react-hooks/set-state-in-effect in Counter.tsx" in change.removed
    assert not [f for f in result.findings_after if f.rule == "react-hooks/set-state-in-effect"]
    # The docs name what the diff touches, and the writer's sentence passed the check.
    assert "`doubled`" in change.documentation and change.doc_model_sentence
    assert result.behaviour_same["Counter.tsx"] == "same DOM after every step as the original"
    # Renders per interaction went down: the click no longer renders twice.
    clicks = [(b, a) for b, a in zip(result.behaviour_before["Counter.tsx"],
                                     result.behaviour_after["Counter.tsx"], strict=True)
              if "click" in b["step"]]
    assert clicks and all(a["renders"] < b["renders"] for b, a in clicks)
    write_output(result, tmp_path / "out")
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["kept_changes"] == 1
    assert report["findings"]["by_rule"]["react-hooks/set-state-in-effect"] == {"before": 1,
                                                                               "after": 0}
    assert (tmp_path / "out" / "refactored" / "Counter.tsx").read_text() == FIXED
    assert "same DOM after every step" in (tmp_path / "out" / "report.md").read_text()


@pytest.mark.toolchain
async def test_an_edit_that_changes_the_dom_is_rejected(toolchain):
    result = await run_refactor(pool(scripted(TRIPLE)), COUNTER, toolchain=toolchain,
                                options=RefactorOptions(samples=0))
    [change] = result.changes
    assert change.status == "rejected"
    assert any("changes behaviour" in c.verdict for c in change.candidates), change.candidates
    assert result.files_after == result.files_before


@pytest.mark.toolchain
async def test_a_compile_error_goes_back_to_the_model_and_the_repair_is_kept(toolchain):
    result = await run_refactor(pool(scripted(BROKEN, DERIVE)), COUNTER, toolchain=toolchain)
    [change] = result.changes
    assert [c.origin for c in change.candidates] == ["model greedy", "model repair"]
    assert "does not compile" in change.candidates[0].verdict
    assert change.status == "accepted" and change.final_from == "model repair"
    # The repair turn showed the model the compiler's words.
    repair = [m for m in result.messages if m.meta.get("origin") == "model repair"][0]
    assert "TS2322" in repair.prompt_messages[-1]["content"]


@pytest.mark.toolchain
async def test_a_doc_sentence_naming_code_outside_the_diff_is_left_out(toolchain):
    result = await run_refactor(pool(scripted(DERIVE, doc="Memoizes `useTotals` for `doubled`.")),
                                COUNTER, toolchain=toolchain)
    [change] = result.changes
    assert change.status == "accepted"
    assert change.doc_identifiers_unknown == ["useTotals"]
    assert "useTotals" not in change.documentation and "`doubled`" in change.documentation


class _CrashingBackend(FakeBackend):
    async def generate(self, request, on_token=None):
        raise WorkerCrashedError("worker stopped answering (no reply within 300 s)")


@pytest.mark.toolchain
async def test_a_failed_model_turn_costs_its_step_not_the_run(toolchain):
    executors = pool(scripted(DERIVE))
    executors["primary-analyzer"] = _CrashingBackend("qwen2.5-coder-1.5b")
    result = await run_refactor(executors, COUNTER, toolchain=toolchain)
    [change] = result.changes
    # The crashed editor cost its turn; the next strongest model edited and its fix was kept.
    assert change.status == "accepted"
    assert {c.model_id for c in change.candidates} == {"smollm2-135m"}

    executors = {r: _CrashingBackend(e.model_id) for r, e in pool(scripted(DERIVE)).items()}
    result = await run_refactor(executors, COUNTER, toolchain=toolchain)
    [change] = result.changes
    assert change.status == "rejected" and "model turn failed" in change.reason
    assert result.files_after == result.files_before and result.compile_after.ok


@pytest.mark.toolchain
async def test_bad_inputs_are_clear_errors(tmp_path, toolchain):
    executors = pool(scripted(DERIVE))
    with pytest.raises(InputError, match="does not exist"):
        await run_refactor(executors, tmp_path / "nope.tsx")
    (tmp_path / "notes.md").write_text("# hi")
    with pytest.raises(InputError, match="not a TypeScript file"):
        await run_refactor(executors, tmp_path / "notes.md")
    with pytest.raises(InputError, match="no .ts or .tsx files"):
        await run_refactor(executors, tmp_path)
    bad = tmp_path / "Bad.tsx"
    bad.write_text("export function Bad( {\n  return <div>;\n")
    with pytest.raises(InputError, match=r"Bad.tsx does not parse: line \d+"):
        await run_refactor(executors, bad, toolchain=toolchain)
    with pytest.raises(InputError, match="the pool handles files up to 100 tokens"):
        await run_refactor(executors, COUNTER, toolchain=toolchain,
                           options=RefactorOptions(max_file_tokens=100))


def test_cli_bad_inputs_are_one_line_and_exit_2(tmp_path, capsys):
    assert cli_main(["refactor", str(tmp_path / "missing.tsx")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and "does not exist" in err and "\n" not in err
    (tmp_path / "empty").mkdir()
    assert cli_main(["refactor", str(tmp_path / "empty")]) == 2
    assert "no .ts or .tsx files" in capsys.readouterr().err
    big = tmp_path / "Big.tsx"
    big.write_text("export const x = 1;\n" * 3000)
    assert cli_main(["refactor", str(big)]) == 2
    err = capsys.readouterr().err.strip()
    assert "the pool handles files up to" in err and "\n" not in err


@pytest.mark.toolchain
async def test_a_page_that_never_settles_is_repaired_first_and_written_as_the_baseline(
        toolchain, tmp_path):
    loop = FIXTURES / "Loop.tsx"
    result = await run_refactor(pool(scripted(loop.read_text())), loop, toolchain=toolchain,
                                options=RefactorOptions(samples=0, max_findings=1))
    [first] = result.changes
    assert first.finding.rule in {"runtime/render-loop", "runtime/never-settles"}
    assert first.status == "accepted", first.reason
    assert result.files_baseline["Loop.tsx"] == result.files_after["Loop.tsx"]
    assert result.files_baseline["Loop.tsx"] != result.files_before["Loop.tsx"]
    assert "never-settling defect repaired" in result.behaviour_same["Loop.tsx"]
    write_output(result, tmp_path / "out")
    assert ((tmp_path / "out" / "baseline" / "Loop.tsx").read_text()
            == result.files_baseline["Loop.tsx"])


@pytest.mark.toolchain
async def test_no_baseline_is_written_for_a_page_that_settles(toolchain, tmp_path):
    result = await run_refactor(pool(scripted(DERIVE)), COUNTER, toolchain=toolchain)
    assert result.files_baseline == {}
    write_output(result, tmp_path / "out")
    assert not (tmp_path / "out" / "baseline").exists()



def test_missing_dependencies_are_named_so_a_swap_is_seen():
    from logomesh_tui.codepipe.pipeline import Finding, missing_deps

    def lint(msg):
        return Finding(source="lint", rule="react-hooks/exhaustive-deps", file="D.tsx", line=9,
                       message=msg)

    before = [lint("React Hook useEffect has missing dependencies: 'limit' and 'prefix'. Either "
                   "include them or remove the dependency array."),
              Finding(source="measure", rule="measure/hooks_missing_deps", file="D.tsx", line=9,
                      message="a hook reads `limit` but its dependency list omits it"),
              Finding(source="measure", rule="measure/hooks_missing_deps", file="D.tsx", line=9,
                      message="a hook reads `prefix` but its dependency list omits it")]
    # One finding per rule fewer or as many: counting by rule would keep this edit.
    after = [lint("React Hook useEffect has a missing dependency: 'items'. Either include it or "
                  "remove the dependency array."),
             Finding(source="measure", rule="measure/hooks_missing_deps", file="D.tsx", line=9,
                     message="a hook reads `items` but its dependency list omits it")]
    was = missing_deps(before)
    assert was == {("D.tsx", "limit"): 2, ("D.tsx", "prefix"): 2}
    added = [k for k, n in missing_deps(after).items() if n > was.get(k, 0)]
    assert added == [("D.tsx", "items")]
    # Fixing one of two leaves no new name.
    fixed = [lint("React Hook useEffect has a missing dependency: 'prefix'. Either include it or "
                  "remove the dependency array.")]
    assert not [k for k, n in missing_deps(fixed).items() if n > was.get(k, 0)]
