"""The refactor benchmark inside projects: the same figures for every target.

    python bench/scripts/refactor_projects.py TARGET [TARGET ...] [--out bench/results/x.json]
        [-- extra refactor options, e.g. --budget 600]

For each target (a file or folder inside a JavaScript/TypeScript project) it runs
``logomesh-tui refactor TARGET -o <tmp> --json`` with the default pool, one after another, and
prints one row each: findings before and after, kept changes, covering tests (files, passed and
failed before and after), type and lint errors the result adds, wall time. The rows and the
reports are written to ``--out`` as JSON.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def run_one(target: str, extra: list[str]) -> dict:
    with tempfile.TemporaryDirectory(prefix="refactor-bench-") as out:
        t0 = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "logomesh_tui", "refactor", target, "-o", out,
                               "--json", *extra], capture_output=True, text=True, check=False)
        wall = time.perf_counter() - t0
        try:
            report = json.loads(proc.stdout)
        except ValueError:
            return {"target": target, "exit": proc.returncode, "wall_s": round(wall, 1),
                    "error": (proc.stderr.strip().splitlines() or ["no output"])[-1]}
    return row(target, report, proc.returncode, wall)


def row(target: str, report: dict, code: int, wall: float) -> dict:
    project = report.get("project") or {}
    before = project.get("tests_before") or {}
    after = project.get("tests_after") or {}
    errors_before = set(report["compile"]["before"]["errors"])
    added_tsc = [e for e in report["compile"]["after"]["errors"] if e not in errors_before]
    lint_rules = {r: c for r, c in report["findings"]["by_rule"].items()
                  if r.startswith("project/")}
    added_lint = sum(max(0, c["after"] - c["before"]) for c in lint_rules.values())
    unresolved = [e for e in report["compile"]["before"]["errors"] if "TS2307" in e]
    return {
        "target": target, "exit": code, "wall_s": round(wall, 1),
        "project": project.get("root"), "typescript": report.get("typescript_version"),
        "unresolved_imports_before": len(unresolved),
        "findings_before": len(report["findings"]["before"]),
        "findings_after": len(report["findings"]["after"]),
        "kept": report["kept_changes"],
        "kept_from": [c.get("final_from") for c in report["changes"]
                      if c["status"] == "accepted"],
        "tests": project.get("tests") or [],
        "tests_before": {"passed": before.get("passed"), "failed": before.get("failed")},
        "tests_after": {"passed": after.get("passed"), "failed": after.get("failed")},
        "added_tsc_errors": len(added_tsc), "added_project_lint_errors": added_lint,
        "outcome": report.get("outcome"), "report": report,
    }


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    extra = argv[argv.index("--") + 1:] if "--" in argv else []
    argv = argv[:argv.index("--")] if "--" in argv else argv
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("targets", nargs="+")
    p.add_argument("--out", default="bench/results/refactor-projects.json")
    args = p.parse_args(argv)
    rows = []
    for target in args.targets:
        print(f"refactor {target} ...", file=sys.stderr, flush=True)
        rows.append(run_one(target, extra))
    print(f"{'target':<60} {'findings':>9} {'kept':>4} {'tests before':>13} "
          f"{'tests after':>12} {'+tsc':>4} {'+lint':>5} {'wall':>7}")
    for r in rows:
        if "error" in r:
            print(f"{r['target'][-60:]:<60} error (exit {r['exit']}): {r['error']}")
            continue
        tb, ta = r["tests_before"], r["tests_after"]
        print(f"{r['target'][-60:]:<60} {r['findings_before']:>4}->{r['findings_after']:<4} "
              f"{r['kept']:>4} {tb['passed']!s:>6}/{tb['failed']!s:<6} "
              f"{ta['passed']!s:>5}/{ta['failed']!s:<6} {r['added_tsc_errors']:>4} "
              f"{r['added_project_lint_errors']:>5} {r['wall_s']:>6.1f}s")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps({"extra_options": extra, "rows": rows}, indent=2))
    print(f"written: {args.out}", file=sys.stderr)
    return 0 if all("error" not in r for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
