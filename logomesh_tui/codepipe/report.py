"""Write a refactor's output folder: files, changes.diff, rationale and docs per change, report.

Layout of ``DIR``::

    refactored/<files>      the refactored files (all input files, changed or not)
    changes.diff            unified diff of every file against the input
    rationale/NN-name.md    per change: who proposed, who critiqued, the votes, the review
    docs/NN-name.md         per accepted change: the documentation the writer role produced
    conversation.jsonl      every model message (LLMMessage, the session line format)
    report.md, report.json  compile diagnostics and static measures before/after, outcome
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from .compiler import safe_relpath
from .patches import unified_diff
from .pipeline import ChangeRecord, RefactorResult


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "-", text).strip("-")[:40] or "change"


def write_output(result: RefactorResult, out_dir: Path | str) -> Path:
    """Write everything to ``out_dir`` (created if needed); return the report.md path."""
    out = Path(out_dir)
    (out / "refactored").mkdir(parents=True, exist_ok=True)
    for name, text in result.files_after.items():
        dest = out / "refactored" / safe_relpath(name)
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
    (out / "report.json").write_text(json.dumps(report_json(result), indent=2), encoding="utf-8")
    (out / "report.md").write_text(report_md(result), encoding="utf-8")
    return out / "report.md"


def report_json(result: RefactorResult) -> dict:
    return {
        "run_id": result.run_id,
        "input": result.input_path,
        "roles": result.roles,
        "typescript_version": result.typescript_version,
        "outcome": outcome(result),
        "compile": {
            "before": {"ok": result.compile_before.ok,
                       "errors": [d.render() for d in result.compile_before.errors]},
            "after": {"ok": result.compile_after.ok,
                      "errors": [d.render() for d in result.compile_after.errors]},
            "command": result.compile_after.command,
        },
        "measures": {f: {"before": result.measures_before[f]["headline"],
                         "after": result.measures_after[f]["headline"]}
                     for f in result.measures_before},
        "measure_details": {f: {"before": {k: v for k, v in result.measures_before[f].items()
                                           if k != "headline"},
                                "after": {k: v for k, v in result.measures_after[f].items()
                                          if k != "headline"}}
                            for f in result.measures_before},
        "changes": [c.model_dump(mode="json") for c in result.changes],
        "tokens": result.tokens,
        "seconds": result.seconds,
        "notes": result.notes,
    }


def outcome(result: RefactorResult) -> str:
    accepted = len(result.accepted)
    if accepted:
        return f"{accepted} change(s) kept; the result compiles" if not [
            d for d in result.compile_after.errors
            if d.key() not in {e.key() for e in result.compile_before.errors}] \
            else "changes kept but the program has new errors (a bug: please report it)"
    if any(c.status == "no-compiling-candidate" for c in result.changes):
        return "no candidate compiled within the iteration budget; the code is unchanged"
    return "no change was kept; the code is unchanged"


def report_md(result: RefactorResult) -> str:
    lines = [f"# Refactor report: {result.input_path}", "",
             f"**Outcome:** {outcome(result)}.", "",
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
    lines += ["", "## Static measures (python -m logomesh_tui.codepipe.measures FILE --json)", ""]
    for f in result.measures_before:
        b, a = result.measures_before[f]["headline"], result.measures_after[f]["headline"]
        lines += [f"### {f}", "", "| measure | before | after |", "|---|---:|---:|"]
        lines += [f"| {k} | {b[k]} | {a[k]} |" for k in b]
        lines.append("")
    lines += ["## Changes", "", "| # | code | status | proposals (compiled) | winner | final | reason |",
              "|---|---|---|---|---|---|---|"]
    for c in result.changes:
        compiled = sum(p.compiled for p in c.proposals)
        lines.append(f"| {c.index} | {c.chunk} | {c.status} | {len(c.proposals)} ({compiled}) | "
                     f"{c.winner or '-'} | {c.final_from or '-'} | {c.reason} |")
    t = result.tokens
    lines += ["", "## Cost", "",
              f"{t['calls']} model calls, {t['prompt_tokens']} prompt + {t['completion_tokens']} "
              f"completion tokens, {result.seconds} s wall time.", ""]
    if result.notes:
        lines += ["## Notes", "", *[f"- {n}" for n in result.notes], ""]
    lines += ["The measures are token-pattern heuristics (see examples/README.md), not proof of "
              "runtime speed; the compiler verdicts are the real tsc's.", ""]
    return "\n".join(lines)


def rationale_md(c: ChangeRecord, result: RefactorResult) -> str:
    lines = [f"# Change {c.index}: {c.chunk}", "", f"**Status:** {c.status} — {c.reason}", ""]
    if c.findings:
        lines += [f"Static scan: {', '.join(c.findings)}.", ""]
    if c.analysis:
        lines += ["## Analysis", "", c.analysis, ""]
    lines += ["## Proposals", "", "| id | role | model | compiled | attempts | votes |",
              "|---|---|---|---|---|---|"]
    for p in c.proposals:
        lines.append(f"| {p.id} | {p.role} | {p.model_id} | {'yes' if p.compiled else 'no'} | "
                     f"{p.attempts} | {p.votes} |")
    for p in c.proposals:
        if p.diagnostics:
            lines += ["", f"{p.id} last compiler feedback:", "", "```", *p.diagnostics[:8], "```"]
    if c.critiques:
        lines += ["", "## Critiques and votes", ""]
        lines += [f"- **{x['role']}** voted {x['vote'] or 'nothing'}: {x['critique']}"
                  for x in c.critiques]
    lines += ["", f"Winner: {c.winner or 'none'}; synthesized by {c.synthesized_by or '-'} "
              f"({'compiled' if c.synthesis_compiled else 'did not compile'} after "
              f"{c.compile_attempts} attempt(s)); final text from: {c.final_from or '-'}."]
    if c.reviews:
        lines += ["", "## Review", ""]
        lines += [f"- **{r['role']}** {'approves' if r['approve'] else 'rejects'}: {r['comment']}"
                  for r in c.reviews]
    if c.diff:
        lines += ["", "## Diff", "", "```diff", c.diff.rstrip(), "```"]
    return "\n".join(lines) + "\n"


def doc_md(c: ChangeRecord, result: RefactorResult) -> str:
    added = sum(1 for x in c.diff.splitlines() if x.startswith("+") and not x.startswith("+++"))
    removed = sum(1 for x in c.diff.splitlines() if x.startswith("-") and not x.startswith("---"))
    lines = [f"# {c.name}: {c.chunk}", "",
             f"_{added} lines added, {removed} removed; proposed by "
             f"{', '.join(p.role for p in c.proposals if p.id == c.winner) or c.synthesized_by}, "
             f"synthesized by {c.synthesized_by}; verified with tsc._", "",
             c.documentation or "(the documentation writer produced nothing for this change)", ""]
    if c.doc_identifiers_unknown:
        lines += [f"> Check: these names in the text do not occur in the code: "
                  f"{', '.join(c.doc_identifiers_unknown)}.", ""]
    return "\n".join(lines)
