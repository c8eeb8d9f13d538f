"""The behaviour harness: a component rendered under node (jsdom + react-dom), driven by an
interaction script, with a mocked API that logs its calls and fake timers.

The component may be model-written, so it runs only in the evidence sandbox
(:class:`~logomesh_tui.verify.sandbox.Sandbox`): a temporary folder, node's permission model,
no network, a time and memory cap; a candidate that hangs is killed there.

A script is JSON: ``{"props": {...}, "api": [{"match": "/orders", "json": {...}}], "steps":
[{"do": "mount"}, {"do": "type", "selector": "input", "index": 0, "text_value": "ab"},
{"do": "click", "selector": "button", "text": "Next"}, {"do": "select", "selector": "select",
"value": "paid"}, {"do": "tick", "ms": 15000}, {"do": "unmount"}]}``. Function props are
``{"$fn": "name"}`` (a spy that logs its calls). Without props they are generated from the
component's prop types; without steps a generic script is derived from what the first render
shows (fields, selects, buttons, clickable rows), and the script actually run is returned, so
every other version replays exactly the same one. API routes without a rule answer with an
object whose every field reads as an empty list.

``python -m logomesh_tui.verify.harness ORIGINAL CANDIDATE [--script S.json]`` compares two
versions step by step.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from ..errors import LogoMeshError
from .toolchain import CheckToolchain, ensure_checks

HARNESS_JS = Path(__file__).with_name("harness.js")
HARNESS_TIMEOUT_S = 60.0
HARNESS_MEMORY_MB = 768


class StepResult(BaseModel):
    step: str
    action: dict[str, Any]
    html: str
    renders: int = 0
    api: list[str] = Field(default_factory=list)
    callbacks: list[str] = Field(default_factory=list)
    settled: bool = True
    rounds: int = 0
    errors: list[str] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)
    timers: int = 0

    @property
    def events(self) -> int:
        """User events the step dispatched (typing sends one per character)."""
        a = self.action
        if a.get("do") == "type" and not a.get("replace"):
            return max(1, len(str(a.get("text_value", ""))))
        return 0 if a.get("do") in ("tick", "unmount") else 1


class HarnessRun(BaseModel):
    """One version run through one script."""

    ok: bool
    error: str = ""
    steps: list[StepResult] = Field(default_factory=list)
    script: list[dict[str, Any]] = Field(default_factory=list)
    props: dict[str, Any] | None = None
    api: list[dict[str, Any]] = Field(default_factory=list)
    timers_after_unmount: int = 0
    max_update_depth: bool = False
    wall_s: float = 0.0

    @property
    def settled(self) -> bool:
        return self.ok and all(s.settled for s in self.steps)

    @property
    def clean(self) -> bool:
        """Ran to the end with no error in any step (what a script must do on the original)."""
        return self.ok and not any(s.errors for s in self.steps)

    def as_script(self) -> dict[str, Any]:
        return {"props": self.props or {}, "api": self.api, "steps": self.script}

    def per_step(self) -> list[dict[str, Any]]:
        """Renders and API calls per interaction, for the report."""
        return [{"step": s.step, "renders": s.renders, "api_calls": len(s.api),
                 "settled": s.settled} for s in self.steps]


async def run_behaviour(files: dict[str, str], entry: str, *, script: dict | None = None,
                        checks: CheckToolchain | None = None,
                        timeout_s: float = HARNESS_TIMEOUT_S) -> HarnessRun:
    """Run ``entry`` (a key of ``files``) through ``script`` in the sandbox; with no script (or
    one without steps/props), derive them. A run that crashes or hangs comes back not ``ok``."""
    from .sandbox import Sandbox, SandboxLimits

    checks = checks or ensure_checks()
    modules = checks.node_modules.resolve()
    script = script or {}
    job: dict[str, Any] = {"node_modules": str(modules), "files": files, "entry": entry,
                           "derive": not script.get("steps")}
    for key in ("props", "api", "steps", "export"):
        if script.get(key) is not None:
            job[key] = script[key]
    limits = SandboxLimits(timeout_s=timeout_s, memory_mb=HARNESS_MEMORY_MB,
                           output_bytes=8_000_000)
    with Sandbox(read_paths=[modules], limits=limits) as sb:
        sb.write("harness.js", HARNESS_JS.read_text(encoding="utf-8"))
        sb.write("job.json", json.dumps(job))
        res = await sb.run_node("harness.js", args=["job.json"])
    if not res.ok:
        why = res.reason() if hasattr(res, "reason") else f"exit {res.exit_code}"
        tail = (res.stderr.strip().splitlines() or [""])[-1][:200]
        return HarnessRun(ok=False, error=f"the component run {why}" + (f": {tail}" if tail else ""),
                          wall_s=res.wall_s)
    try:
        data = json.loads(res.stdout)
    except ValueError:
        return HarnessRun(ok=False, error="the harness printed no result", wall_s=res.wall_s)
    return HarnessRun(ok=bool(data.get("ok")), error="; ".join(data.get("errors") or []),
                      steps=[StepResult(**s) for s in data.get("steps") or []],
                      script=data.get("script") or [], props=data.get("props"),
                      api=list(script.get("api") or []),
                      timers_after_unmount=int(data.get("timers_after_unmount") or 0),
                      max_update_depth=bool(data.get("max_update_depth")), wall_s=res.wall_s)


def compare(reference: HarnessRun, candidate: HarnessRun) -> tuple[bool, str]:
    """Same behaviour: the candidate ran every step of the reference's script without a new
    error and the DOM after every step is identical. Returns (same, the first difference)."""
    if not candidate.ok:
        return False, candidate.error or "the candidate did not run"
    if len(candidate.steps) != len(reference.steps):
        return False, f"ran {len(candidate.steps)} steps, the reference {len(reference.steps)}"
    for ref, cand in zip(reference.steps, candidate.steps, strict=True):
        new_errors = [e for e in cand.errors if e not in ref.errors]
        if new_errors:
            return False, f"step {cand.step}: {new_errors[0]}"
        if ref.html != cand.html:
            return False, f"step {cand.step}: the DOM differs ({_first_difference(ref.html, cand.html)})"
    return True, ""


def _first_difference(a: str, b: str) -> str:
    i = next((k for k, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))
    return f"reference …{a[max(0, i - 30):i + 40]}… vs …{b[max(0, i - 30):i + 40]}…"


def runtime_problems(run: HarnessRun) -> list[tuple[str, str]]:
    """(rule, message) for each runtime defect a run shows: render loops, steps that never
    settle, errors, interactions that render more than once per event, repeated API calls in
    one interaction, timers still scheduled after unmount."""
    out: list[tuple[str, str]] = []
    if not run.ok:
        return [("runtime/crash", run.error or "the component did not run")]
    if run.max_update_depth:
        out.append(("runtime/render-loop", "React reported \"Maximum update depth exceeded\": "
                                           "a state update in render or an effect loops"))
    for s in run.steps:
        if not s.settled:
            calls = Counter(s.api).most_common(2)
            seen = ", ".join(f"{u} x{n}" for u, n in calls) or "no API calls"
            out.append(("runtime/never-settles",
                        f"step {s.step}: still rendering after {s.rounds} rounds ({s.renders} "
                        f"renders; {seen}): an effect re-runs on every render"))
        for e in s.errors:
            out.append(("runtime/error", f"step {s.step}: {e}"))
        if s.settled and s.renders > max(1, s.events):
            out.append(("runtime/extra-renders",
                        f"step {s.step}: {s.renders} renders for {max(1, s.events)} event(s): "
                        "state set in an effect renders again"))
        dup = [(u, n) for u, n in Counter(s.api).items() if n > 1]
        if s.settled and dup:
            out.append(("runtime/repeated-api-calls",
                        f"step {s.step}: {', '.join(f'{u} x{n}' for u, n in dup)}"))
    if run.timers_after_unmount:
        out.append(("runtime/timers-left-running",
                    f"{run.timers_after_unmount} timer(s) still scheduled after unmount: an "
                    "interval or timeout is never cleared"))
    return out


def load_script(path: Path | str) -> dict:
    """Read an interaction script (JSON); one clear line on a bad file."""
    p = Path(path)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except OSError as exc:
        raise LogoMeshError(f"cannot read the script {p}: {exc.strerror}") from exc
    except ValueError as exc:
        raise LogoMeshError(f"the script {p} is not valid JSON: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("steps", []), list):
        raise LogoMeshError(f"the script {p} must be an object with a \"steps\" list")
    return data


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m logomesh_tui.verify.harness",
        description="Render two versions of a React component through the same interaction "
                    "script (sandboxed node + jsdom) and compare the DOM after every step.")
    parser.add_argument("original")
    parser.add_argument("candidate")
    parser.add_argument("--script", help="interaction script JSON (default: derived)")
    parser.add_argument("--json", action="store_true", help="print both runs as JSON")
    args = parser.parse_args(argv)
    try:
        script = load_script(args.script) if args.script else None
        a, b = Path(args.original), Path(args.candidate)
        ref = asyncio.run(run_behaviour({a.name: a.read_text(encoding="utf-8")}, a.name,
                                        script=script))
        if not ref.clean:
            print(f"error: the script does not run cleanly on {a}: "
                  f"{ref.error or next(e for s in ref.steps for e in s.errors)}", file=sys.stderr)
            return 2
        cand = asyncio.run(run_behaviour({b.name: b.read_text(encoding="utf-8")}, b.name,
                                         script=ref.as_script()))
    except (LogoMeshError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    same, why = compare(ref, cand)
    if args.json:
        print(json.dumps({"same": same, "difference": why, "original": ref.model_dump(),
                          "candidate": cand.model_dump()}, indent=2))
    else:
        for r, c in zip(ref.steps, cand.steps, strict=False):
            print(f"{r.step:<14} renders {r.renders:>3} -> {c.renders:<3} api calls "
                  f"{len(r.api):>3} -> {len(c.api):<3} {'same DOM' if r.html == c.html else 'DOM DIFFERS'}")
        print("same behaviour" if same else f"behaviour differs: {why}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
