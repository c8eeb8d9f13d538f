"""The refactor pipeline with scripted fake models and the real TypeScript compiler."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from logomesh_tui.cli.main import main as cli_main
from logomesh_tui.codepipe.compiler import typecheck_sources
from logomesh_tui.codepipe.pipeline import InputError, RefactorOptions, run_refactor
from logomesh_tui.codepipe.report import write_output
from logomesh_tui.conversation.messages import MessageType
from logomesh_tui.errors import WorkerCrashedError
from logomesh_tui.pool.fake import FakeBackend
from logomesh_tui.sessions.store import SessionStore
from tests.codepipe.scripted import FIXED, FIXTURES, scripted

REPO = Path(__file__).resolve().parents[2]
BROKEN = FIXED.replace("const doubled = count * 2;", "const doubled: string = count * 2;")


def pool(responder, n_ctx=4096):
    return {"primary-analyzer": FakeBackend("qwen2.5-coder-1.5b", n_ctx=n_ctx, responder=responder),
            "optimization-specialist": FakeBackend("qwen2.5-coder-0.5b", n_ctx=n_ctx,
                                                   responder=responder),
            "documentation-writer": FakeBackend("smollm2-135m", n_ctx=n_ctx, responder=responder)}


async def test_a_failing_proposal_goes_back_with_diagnostics_and_the_result_compiles(
        toolchain, tmp_path):
    executors = pool(scripted(BROKEN, FIXED, FIXED))
    store = SessionStore(tmp_path / "sessions")
    recorder = store.recorder()
    result = await run_refactor(executors, FIXTURES / "Counter.tsx", toolchain=toolchain,
                                recorder=recorder)
    change = result.changes[0]
    assert change.status == "accepted"
    # The run is a session the session/export layers can read.
    events = store.read(recorder.session_id).events
    kinds = [e.kind for e in events]
    assert kinds[0] == "session_started" and kinds[-1] == "session_finished"
    assert kinds.count("message") == len(result.messages)
    assert kinds.count("vote") == len(change.votes) == 3 + 2  # 3 critique votes, 2 reviews
    review_votes = [v for v in change.votes if v.round == 4]
    final_msg = next(m for m in result.messages if m.id == change.final_message_id)
    assert final_msg.meta["phase"] == "synthesis"
    assert all(v.target_id == final_msg.id and v.approve for v in review_votes)
    # Each proposer's first version failed; the repair prompt carried tsc's diagnostic.
    analyzer = executors["primary-analyzer"]
    repair_prompts = [r.messages[-1]["content"] for r in analyzer.requests
                      if "rejected that version" in r.messages[-1]["content"]]
    assert repair_prompts and "TS2322" in repair_prompts[0]
    assert "Type 'number' is not assignable to type 'string'" in repair_prompts[0]
    assert all(p.compiled and p.attempts == 2 for p in change.proposals)
    # The result compiles when checked independently, and is the fixed component.
    out = result.files_after["Counter.tsx"]
    assert typecheck_sources(toolchain, {"Counter.tsx": out}).ok
    assert "useEffect" not in out and "const doubled = count * 2;" in out
    assert result.compile_after.ok
    before = result.measures_before["Counter.tsx"]["headline"]
    after = result.measures_after["Counter.tsx"]["headline"]
    assert (before["any_count"], after["any_count"]) == (1, 0)
    assert (before["effects_setting_state"], after["effects_setting_state"]) == (1, 0)
    # Attribution: who proposed, critiqued, voted, reviewed; messages typed for the session layer.
    kinds = {m.message_type for m in result.messages}
    assert {MessageType.ANALYSIS, MessageType.PROPOSAL, MessageType.CRITIQUE,
            MessageType.CONSENSUS} <= kinds
    assert [v.voter for v in change.votes if v.round == 2] == list(executors)
    assert change.winner == "P1" and change.synthesized_by == "primary-analyzer"
    assert change.doc_identifiers_unknown == []

    report = write_output(result, tmp_path / "out")
    out_dir = tmp_path / "out"
    assert (out_dir / "refactored" / "Counter.tsx").read_text() == out
    diff = (out_dir / "changes.diff").read_text()
    assert diff.startswith("--- a/Counter.tsx") and "-  useEffect(() => {" in diff
    rationale = next((out_dir / "rationale").iterdir()).read_text()
    assert "primary-analyzer" in rationale and "voted P1" in rationale and "approves" in rationale
    assert "`doubled`" in next((out_dir / "docs").iterdir()).read_text()
    data = json.loads((out_dir / "report.json").read_text())
    assert data["compile"]["after"]["ok"] and data["measures"]["Counter.tsx"]["after"]["any_count"] == 0
    assert "compiles" in report.read_text()
    lines = (out_dir / "conversation.jsonl").read_text().splitlines()
    assert len(lines) == len(result.messages) and json.loads(lines[0])["from"] == "primary-analyzer"


async def test_a_change_that_never_compiles_is_never_presented(toolchain, tmp_path):
    executors = pool(scripted(BROKEN, BROKEN, BROKEN))
    result = await run_refactor(executors, FIXTURES / "Counter.tsx", toolchain=toolchain,
                                options=RefactorOptions(max_iterations=2))
    change = result.changes[0]
    assert change.status == "no-compiling-candidate"
    assert change.compile_attempts == 2
    assert result.files_after == result.files_before
    write_output(result, tmp_path / "out")
    assert (tmp_path / "out" / "changes.diff").read_text() == ""
    assert "no candidate compiled" in (tmp_path / "out" / "report.md").read_text()
    # Synthesis retries carried the diagnostics back.
    synth = [r.messages[-1]["content"] for r in executors["primary-analyzer"].requests]
    assert sum("TS2322" in c for c in synth) >= 2


async def test_a_reply_with_imports_is_merged_into_the_import_block(toolchain):
    with_imports = 'import { useMemo, useState } from "react";\n\n' + FIXED.split("\n\n", 1)[1]
    with_imports = with_imports.replace("const doubled = count * 2;",
                                        "const doubled = useMemo(() => count * 2, [count]);")
    executors = pool(scripted(with_imports, with_imports, with_imports))
    result = await run_refactor(executors, FIXTURES / "Counter.tsx", toolchain=toolchain)
    out = result.files_after["Counter.tsx"]
    assert result.changes[0].status == "accepted"
    assert out.count("import ") == 1 and "useMemo" in out.splitlines()[0]
    assert "useEffect" not in out  # the import it no longer needs was pruned


async def test_long_file_is_split_for_2k_windows_and_reassembled(toolchain):
    src = (REPO / "examples" / "Dashboard.tsx").read_text()
    seen_sizes = []

    def responder(req, backend):
        last = req.messages[-1]["content"]
        if req.json_schema and "vote" in req.json_schema["properties"]:
            return json.dumps({"vote": "P1", "critique": "ok", "confidence": 0.7})
        if req.json_schema:
            return json.dumps({"approve": True, "comment": "ok"})
        m = re.search(r"```tsx\n(.*?)\n```", last, re.S)
        if last.startswith(("Refactor this code", "Synthesize")) and m:
            code = re.findall(r"```tsx\n(.*?)\n```", last, re.S)[-1]
            seen_sizes.append(len(code))
            return "```tsx\n" + code.replace("useState<any>(null)",
                                              "useState<{ name: string } | null>(null)") + "\n```"
        return "1. `user` is typed any."

    executors = pool(responder, n_ctx=2048)
    result = await run_refactor(executors, REPO / "examples" / "Dashboard.tsx",
                                toolchain=toolchain, options=RefactorOptions(max_chunks=40))
    statuses = {c.chunk: c.status for c in result.changes}
    assert any(s == "accepted" for s in statuses.values()), statuses
    out = result.files_after["Dashboard.tsx"]
    assert "useState<{ name: string } | null>(null)" in out
    assert out.replace("useState<{ name: string } | null>(null)", "useState<any>(null)") == src
    assert result.compile_after.ok
    # Every prompt fit a 2k window: the code shown was a part of the file, never all of it.
    assert seen_sizes and max(seen_sizes) < len(src) / 3
    assert all(r.messages and r.max_tokens >= 1 for b in executors.values() for r in b.requests)
    # The JSX return of the 500-line component is too big for 2k windows: reported, not hidden.
    skipped = [c for c in result.changes if c.status == "skipped"]
    assert skipped and all("too large for the windows" in c.reason for c in skipped)


async def test_bad_paths_are_clear_errors(tmp_path, toolchain):
    with pytest.raises(InputError, match="does not exist"):
        await run_refactor(pool(scripted(FIXED, FIXED, FIXED)), tmp_path / "nope.tsx")
    (tmp_path / "notes.md").write_text("# hi")
    with pytest.raises(InputError, match="not a TypeScript file"):
        await run_refactor(pool(scripted(FIXED, FIXED, FIXED)), tmp_path / "notes.md")
    with pytest.raises(InputError, match="no .ts or .tsx files"):
        await run_refactor(pool(scripted(FIXED, FIXED, FIXED)), tmp_path)


def test_cli_reports_bad_paths_in_one_line(tmp_path, capsys):
    assert cli_main(["refactor", str(tmp_path / "missing.tsx")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and "does not exist" in err and "\n" not in err
    (tmp_path / "a.py").write_text("x = 1")
    assert cli_main(["refactor", str(tmp_path / "a.py")]) == 2
    assert "not a TypeScript file" in capsys.readouterr().err


class _CrashingBackend(FakeBackend):
    async def generate(self, request, on_token=None):
        raise WorkerCrashedError("worker stopped answering (no reply within 300 s)")


async def test_a_crashed_or_timed_out_worker_skips_its_step_not_the_run(toolchain):
    executors = pool(scripted(BROKEN, FIXED, FIXED))
    executors["optimization-specialist"] = _CrashingBackend("qwen2.5-coder-0.5b")
    result = await run_refactor(executors, FIXTURES / "Counter.tsx", toolchain=toolchain)
    change = result.changes[0]
    # The other proposer's repaired proposal still went through synthesis and review.
    assert change.status == "accepted"
    assert [p.role for p in change.proposals] == ["primary-analyzer"]
    assert result.compile_after.ok

    executors = pool(scripted(BROKEN, FIXED, FIXED))
    executors["primary-analyzer"] = _CrashingBackend("qwen2.5-coder-1.5b")
    result = await run_refactor(executors, FIXTURES / "Counter.tsx", toolchain=toolchain)
    assert result.changes[0].status == "skipped"
    assert "a model call failed" in result.changes[0].reason
    assert result.files_after == result.files_before
