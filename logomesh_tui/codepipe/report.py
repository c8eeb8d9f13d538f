"""Write a refactor's output folder: files, changes.diff, rationale and docs per change, report.

Layout of ``DIR``::

    refactored/<files>      the refactored files (all input files, changed or not)
    changes.diff            unified diff of every file against the input
    rationale/NN-name.md    per finding worked on: every candidate and the gate's verdict
    docs/NN-name.md         per kept change: documentation written from its diff, checked
    conversation.jsonl      every model message (LLMMessage, the session line format)
    report.md, report.json  findings, renders and API calls per interaction, compile and
                            measures before/after; kept and rejected changes with evidence
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from ..source.patches import unified_diff
from ..verify.compiler import safe_relpath
from .apply import ApplyResult
from .pipeline import ChangeRecord, RefactorResult


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "-", text).strip("-")[:40] or "change"


def write_output(result: RefactorResult, out_dir: Path | str,
                 applied: ApplyResult | None = None) -> Path:
    """Write everything to ``out_dir`` (created if needed); return the report.md path.
    ``applied``: what ``--apply`` wrote into the tree (said in the report)."""
    out = Path(out_dir)
    (out / "refactored").mkdir(parents=True, exist_ok=True)
    for name, text in result.files_after.items():
        dest = out / "refactored" / safe_relpath(name)
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(text, encoding="utf-8")
    for name, text in result.files_baseline.items():
        dest = out / "baseline" / safe_relpath(name)
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(text, encoding="utf-8")
    diff = "".join(unified_diff(result.files_before[f], result.files_after[f], f)
                   for f in result.files_before)
    (out / "changes.diff").write_text(diff, encoding="utf-8")
    (out / "rationale").mkdir(exist_ok=True)
    (out / "docs").mkdir(exist_ok=True)
    for change in result.changes:
        stem = f"{change.index:02d}-{_slug(change.name)}"
        (out / "rationale" / f"{stem}.md").write_text(rationale_md(change, result), encoding="utf-8")
        if change.status == "accepted":
            (out / "docs" / f"{stem}.md").write_text(doc_md(change, result), encoding="utf-8")
    with (out / "conversation.jsonl").open("w", encoding="utf-8") as fh:
        for m in result.messages:
            fh.write(m.model_dump_json(by_alias=True) + "\n")
    (out / "report.json").write_text(json.dumps(report_json(result, applied), indent=2),
                                     encoding="utf-8")
    (out / "report.md").write_text(report_md(result, applied), encoding="utf-8")
    return out / "report.md"


def report_json(result: RefactorResult, applied: ApplyResult | None = None) -> dict:
    before, after = _count(result.findings_before), _count(result.findings_after)
    return {
        "run_id": result.run_id,
        "input": result.input_path,
        "roles": result.roles,
        "typescript_version": result.typescript_version,
        "outcome": outcome(result),
        "kept_changes": len(result.accepted),
        "compile": {
            "before": {"ok": result.compile_before.ok,
                       "errors": [d.render() for d in result.compile_before.errors]},
            "after": {"ok": result.compile_after.ok,
                      "errors": [d.render() for d in result.compile_after.errors]},
            "command": result.compile_after.command,
        },
        "findings": {"before": [f.model_dump() for f in result.findings_before],
                     "after": [f.model_dump() for f in result.findings_after],
                     "by_rule": {r: {"before": before.get(r, 0), "after": after.get(r, 0)}
                                 for r in sorted(set(before) | set(after))}},
        "behaviour": {"before": result.behaviour_before, "after": result.behaviour_after,
                      "comparison": result.behaviour_same},
        "scripts": result.scripts,
        "measures": {f: {"before": result.measures_before[f]["headline"],
                         "after": result.measures_after[f]["headline"]}
                     for f in result.measures_before},
        "changes": [c.model_dump(mode="json") for c in result.changes],
        "tokens": result.tokens,
        "seconds": result.seconds,
        "notes": result.notes,
        "project": result.project,
        "applied": applied.as_json() if applied is not None else None,
    }


def _count(findings: list) -> dict[str, int]:
    out: dict[str, int] = {}
    for f in findings:
        out[f.rule] = out.get(f.rule, 0) + 1
    return out


def outcome(result: RefactorResult) -> str:
    accepted = len(result.accepted)
    new_errors = [d for d in result.compile_after.errors
                  if d.key() not in {e.key() for e in result.compile_before.errors}]
    if accepted:
        return (f"{accepted} change(s) kept; the result compiles" if not new_errors
                else "changes kept but the program has new errors (a bug: please report it)")
    return "no change was kept; the code is unchanged"


def report_md(result: RefactorResult, applied: ApplyResult | None = None) -> str:
    lines = [f"# Refactor report: {result.input_path}", "",
             f"**Outcome:** {outcome(result)}.", "",
             f"{len(result.findings_before)} findings before, {len(result.findings_after)} after; "
             f"{len(result.accepted)} change(s) kept of {len(result.changes)} finding(s) worked "
             f"on; {result.seconds} s wall time.", "",
             "| role | model |", "|---|---|"]
    lines += [f"| {r} | {m} |" for r, m in result.roles.items()]
    before, after = result.compile_before, result.compile_after
    lines += ["", f"## Compilation (TypeScript {result.typescript_version}, {after.command})", "",
              f"- before: {'compiles' if before.ok else f'{len(before.errors)} errors'}",
              f"- after: {'compiles' if after.ok else f'{len(after.errors)} errors'}"]
    for label, res in (("before", before), ("after", after)):
        if res.errors:
            lines += ["", f"Diagnostics {label}:", "", "```",
                      *[d.render() for d in res.errors[:30]], "```"]
    b, a = _count(result.findings_before), _count(result.findings_after)
    lines += ["", "## Findings by rule (eslint, behaviour harness, measures)", "",
              "| rule | before | after |", "|---|---:|---:|"]
    lines += [f"| {r} | {b.get(r, 0)} | {a.get(r, 0)} |" for r in sorted(set(a) | set(b))]
    lines += ["", "## Behaviour per interaction (renders, API calls) before -> after", ""]
    for entry, steps in result.behaviour_before.items():
        after_steps = result.behaviour_after.get(entry, [])
        lines += [f"### {entry}: {result.behaviour_same.get(entry, 'not compared')}", "",
                  "| step | renders | API calls | settled |", "|---|---|---|---|"]
        for i, s in enumerate(steps):
            t = after_steps[i] if i < len(after_steps) else {}
            lines.append(f"| {s['step']} | {s['renders']} -> {t.get('renders', '-')} | "
                         f"{s['api_calls']} -> {t.get('api_calls', '-')} | "
                         f"{s['settled']} -> {t.get('settled', '-')} |")
        lines.append("")
    lines += ["## Changes (one per finding worked on)", "",
              "| # | finding | status | candidates (passed) | kept from | deciding evidence |",
              "|---|---|---|---|---|---|"]
    for c in result.changes:
        passed = sum(x.passed for x in c.candidates)
        lines.append(f"| {c.index} | {c.chunk} | {c.status} | {len(c.candidates)} ({passed}) | "
                     f"{c.final_from or '-'} | {c.reason.replace('|', '/')[:200]} |")
    for c in result.accepted:
        lines += ["", f"### Change {c.index}: {c.chunk}", "", c.documentation, "",
                  "```diff", c.diff.rstrip(), "```"]
    t = result.tokens
    lines += ["", "## Cost", "",
              f"{t['calls']} model calls, {t['prompt_tokens']} prompt + {t['completion_tokens']} "
              f"completion tokens, {result.seconds} s wall time.", ""]
    if applied is not None and applied.files:
        lines += ["## Applied", "", f"Written into {applied.repo}: "
                  + ", ".join(f"`{f}`" for f in applied.files)
                  + f". Undo with `{applied.undo_command()}`.", ""]
    if result.notes:
        lines += ["## Notes", "", *[f"- {n}" for n in result.notes], ""]
    return "\n".join(lines)


def rationale_md(c: ChangeRecord, result: RefactorResult) -> str:
    f = c.finding
    lines = [f"# Finding {c.index}: {c.chunk}", "", f"**Status:** {c.status} — {c.reason}", ""]
    if f:
        lines += [f"{f.source} finding: {f.message}", "", f"Edited: {c.excerpt or '-'}", ""]
    lines += ["## Candidates (smallest first within each source)", "",
              "| origin | model | size | passed | verdict |", "|---|---|---:|---|---|"]
    for x in c.candidates:
        lines.append(f"| {x.origin} | {x.model_id or '-'} | {x.size} | "
                     f"{'yes' if x.passed else 'no'} | {x.verdict.replace('|', '/')[:160]} |")
    if c.diff:
        lines += ["", "## Kept diff", "", "```diff", c.diff.rstrip(), "```"]
    return "\n".join(lines) + "\n"


def doc_md(c: ChangeRecord, result: RefactorResult) -> str:
    lines = [f"# {c.name}: {c.chunk}", "", c.documentation, ""]
    if c.doc_identifiers_unknown:
        lines += [f"> The documentation writer's sentence was left out: it named "
                  f"{', '.join(c.doc_identifiers_unknown)}, which the diff does not contain.", ""]
    lines += ["```diff", c.diff.rstrip(), "```", ""]
    return "\n".join(lines)
