"""Quality-bench tasks: load a folder of them and check candidate answers with tsc and node.

A task passes when, in a temporary copy of its folder with the answer as ``input.ts``,
``tsc --strict --module commonjs --target es2022 --outDir build check.ts`` compiles and
``node build/check.js`` exits 0. :func:`check_answer` runs exactly that; :func:`check_answers`
gives the same verdicts for many answers with one compiler run (tsc start-up dominates small
programs), falling back to one run per answer if the batch cannot be attributed.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, Field

from ..errors import LogoMeshError
from ..verify.compiler import Diagnostic, parse_diagnostics, run_tsc
from ..verify.toolchain import Toolchain

TASK_TSC_ARGS = ["--strict", "--module", "commonjs", "--target", "es2022", "--outDir", "build",
                 "check.ts"]
NODE_TIMEOUT_S = 20
# Files that describe or solve the task; never copied next to a candidate answer.
_NOT_COPIED = {"task.md", "reference.ts", "input.ts"}


class TaskError(LogoMeshError):
    """A tasks folder or task is missing or malformed."""


@dataclass
class QualityTask:
    """One task folder."""

    name: str
    path: Path
    instruction: str
    input: str
    reference: str | None = None
    support: dict[str, str] = field(default_factory=dict)
    # task.json's "split" ("tune" or "dev" in bench/tasks), None where a folder has none
    split: str | None = None


def load_task(path: Path) -> QualityTask:
    path = Path(path)
    missing = [f for f in ("task.md", "input.ts", "check.ts") if not (path / f).is_file()]
    if missing:
        raise TaskError(f"task {path} lacks {', '.join(missing)}: each task folder needs "
                        "task.md, input.ts and check.ts")
    support = {p.name: p.read_text(encoding="utf-8") for p in sorted(path.iterdir())
               if p.is_file() and p.suffix == ".ts" and p.name not in _NOT_COPIED
               and not p.name.startswith("reference")}
    ref = path / "reference.ts"
    split = None
    meta_file = path / "task.json"
    if meta_file.is_file():
        try:
            meta = json.loads(meta_file.read_text(encoding="utf-8"))
        except ValueError as exc:
            raise TaskError(f"task {path}: task.json is not valid JSON ({exc}): fix or delete "
                            "it") from exc
        if isinstance(meta, dict) and isinstance(meta.get("split"), str):
            split = meta["split"]
    return QualityTask(split=split, name=path.name, path=path,
                       instruction=(path / "task.md").read_text(encoding="utf-8").strip(),
                       input=(path / "input.ts").read_text(encoding="utf-8"),
                       reference=ref.read_text(encoding="utf-8") if ref.is_file() else None,
                       support=support)


def load_tasks(tasks_dir: Path | str) -> list[QualityTask]:
    """Every subfolder holding a task.md, sorted by name."""
    root = Path(tasks_dir)
    if not root.is_dir():
        raise TaskError(f"tasks folder {root} does not exist: pass --tasks DIR with task folders")
    tasks = [load_task(p) for p in sorted(root.iterdir()) if p.is_dir() and (p / "task.md").exists()]
    if not tasks:
        raise TaskError(f"no tasks in {root}: each task is a subfolder with task.md, input.ts "
                        "and check.ts")
    return tasks


class TaskOutcome(BaseModel):
    """The verdict on one answer."""

    task: str
    passed: bool
    stage: str = Field(description="compile | run | passed")
    diagnostics: list[Diagnostic] = Field(default_factory=list)
    output: str = ""
    seconds: float = 0.0

    def feedback(self, task: QualityTask | None = None, limit: int = 8) -> str:
        """Compiler diagnostics as a model should see them, with the offending source line."""
        lines = []
        sources = {}
        if task is not None:
            sources = dict(task.support)
        for d in [d for d in self.diagnostics if d.category == "error"][:limit]:
            lines.append(d.render())
            src = sources.get(d.file)
            if src and 0 < d.line <= len(src.splitlines()):
                lines.append("    " + src.splitlines()[d.line - 1].strip())
        return "\n".join(lines)


def _write_task_copy(task: QualityTask, answer: str, dest: Path) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    for name, text in task.support.items():
        (dest / name).write_text(text, encoding="utf-8")
    (dest / "input.ts").write_text(answer, encoding="utf-8")


def _run_node(node: str, script: Path, cwd: Path) -> tuple[int, str]:
    try:
        proc = subprocess.run([node, str(script)], cwd=cwd, capture_output=True, text=True,
                              timeout=NODE_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        return 124, f"node ran over {NODE_TIMEOUT_S} s"
    return proc.returncode, (proc.stdout + proc.stderr)[-2000:]


def _error_line(output: str) -> str:
    for line in output.splitlines():
        if line.strip().startswith(("Error:", "TypeError:", "RangeError:", "ReferenceError:")):
            return line.strip()
    return output.strip().splitlines()[-1] if output.strip() else ""


def check_answer(toolchain: Toolchain, task: QualityTask, answer: str, *,
                 run: bool = True) -> TaskOutcome:
    """Judge one answer with exactly the documented command line, in a temporary copy."""
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix=f"logomesh-task-{task.name}-") as tmp:
        root = Path(tmp)
        _write_task_copy(task, answer, root)
        code, out, _ = run_tsc(toolchain, root, TASK_TSC_ARGS)
        diags = parse_diagnostics(out)
        if code != 0 or any(d.category == "error" for d in diags):
            if not diags:
                diags = [Diagnostic(code=0, message=out.strip()[-300:] or f"tsc exited {code}")]
            return TaskOutcome(task=task.name, passed=False, stage="compile", diagnostics=diags,
                               seconds=time.perf_counter() - t0)
        if not run:
            return TaskOutcome(task=task.name, passed=True, stage="compile",
                               seconds=time.perf_counter() - t0)
        rc, output = _run_node(toolchain.node, root / "build" / "check.js", root)
    return TaskOutcome(task=task.name, passed=rc == 0, stage="passed" if rc == 0 else "run",
                       output=_error_line(output) if rc else "", seconds=time.perf_counter() - t0)


def check_answers(toolchain: Toolchain, pairs: list[tuple[QualityTask, str]], *,
                  run: bool = True) -> list[TaskOutcome]:
    """Judge many answers with one tsc run (same options, each answer in its own folder).

    ``moduleDetection: force`` keeps one folder's top-level names out of another's, so each
    verdict matches :func:`check_answer`'s for the same answer.
    """
    if not pairs:
        return []
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="logomesh-tasks-") as tmp:
        root = Path(tmp)
        for i, (task, answer) in enumerate(pairs):
            _write_task_copy(task, answer, root / f"t{i}")
        (root / "tsconfig.json").write_text(json.dumps({
            "compilerOptions": {"strict": True, "module": "commonjs", "target": "es2022",
                                "outDir": "build", "rootDir": ".", "moduleDetection": "force"},
            "files": [f"t{i}/check.ts" for i in range(len(pairs))]}))
        code, out, _ = run_tsc(toolchain, root, ["-p", "tsconfig.json"])
        diags = parse_diagnostics(out)
        if any(not d.file for d in diags) or (code != 0 and not diags):
            # A diagnostic we cannot pin on one answer: judge each alone instead.
            return [check_answer(toolchain, t, a, run=run) for t, a in pairs]
        per: dict[int, list[Diagnostic]] = {}
        for d in diags:
            head, _, rest = d.file.partition("/")
            idx = int(head[1:])
            per.setdefault(idx, []).append(d.model_copy(update={"file": rest}))
        outcomes: list[TaskOutcome | None] = [None] * len(pairs)
        to_run = []
        for i, (task, _) in enumerate(pairs):
            errs = [d for d in per.get(i, []) if d.category == "error"]
            if errs:
                outcomes[i] = TaskOutcome(task=task.name, passed=False, stage="compile",
                                          diagnostics=per[i])
            elif not run:
                outcomes[i] = TaskOutcome(task=task.name, passed=True, stage="compile")
            else:
                to_run.append(i)

        def run_one(i: int) -> TaskOutcome:
            rc, output = _run_node(toolchain.node, root / "build" / f"t{i}" / "check.js",
                                   root / f"t{i}")
            return TaskOutcome(task=pairs[i][0].name, passed=rc == 0,
                               stage="passed" if rc == 0 else "run",
                               output=_error_line(output) if rc else "")

        with ThreadPoolExecutor(max_workers=4) as pool:
            for i, outcome in zip(to_run, pool.map(run_one, to_run), strict=True):
                outcomes[i] = outcome
    elapsed = (time.perf_counter() - t0) / len(pairs)
    return [o.model_copy(update={"seconds": elapsed}) for o in outcomes if o is not None]

