"""Typed records of the evidence engine: a code task, candidates, probes and the evidence on them.

They are pydantic models so they travel unchanged into session events, conversation messages,
bench result JSON and the DPO export.
"""

from __future__ import annotations

import hashlib
import re

from pydantic import BaseModel, Field

from ..source.lexer import match_bracket, tokenize


class CodeTask(BaseModel):
    """What the models are asked to do to one file, and everything the checks may see.

    ``support`` holds the other files of the folder (imported by the file, never changed). Hidden
    checks or reference answers are never part of a CodeTask.
    """

    instruction: str
    file_name: str = "input.ts"
    starter: str
    support: dict[str, str] = Field(default_factory=dict)
    focus: tuple[int, int] | None = Field(
        default=None, description="character span of the starter the models rewrite (a file too "
                                  "big for their windows); None: the whole file")

    @property
    def part(self) -> str:
        """The text the models rewrite: the focus span, or the whole starter."""
        if self.focus is None:
            return self.starter
        return self.starter[self.focus[0]:self.focus[1]]

    def compose(self, new_part: str) -> str:
        """The whole file with the rewritten part in place."""
        if self.focus is None:
            return new_part
        a, b = self.focus
        tail = "" if new_part.endswith("\n") or not self.starter[a:b].endswith("\n") else "\n"
        return self.starter[:a] + new_part + tail + self.starter[b:]

    @property
    def module(self) -> str:
        """The import specifier of the file (``./input`` for ``input.ts``)."""
        stem = self.file_name.rsplit(".", 1)[0]
        return f"./{stem}"


class Candidate(BaseModel):
    """One proposed new text of the task's file."""

    id: str
    text: str
    author: str = Field(description="the role that wrote it ('starter' for the known-bad input)")
    model_id: str = ""
    origin: str = Field(default="sample", description="greedy | sample | repair | starter")
    temperature: float = 0.0
    seed: int | None = None
    parent: str | None = Field(default=None, description="for a repair: the candidate it fixes")
    framing: str = Field(default="", description="how the task prompt was put (engine.FRAMINGS); "
                                                 "empty for a repair, whose prompt is its own")

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.text.strip().encode()).hexdigest()[:12]


class Probe(BaseModel):
    """A small program written by the tester: calls into the file and prints what comes back.

    ``assert(cond, msg)`` lines are allowed only for facts the task states; a probe without them
    is input-only and judges nothing by itself: candidates are grouped by what it prints.
    """

    id: str
    code: str
    author: str = ""
    model_id: str = ""

    @property
    def asserts(self) -> bool:
        return "assert(" in self.code


class ProbeRun(BaseModel):
    """What one probe printed against one candidate."""

    probe: str
    status: str = Field(description="ok | assert-failed | threw | timed-out | killed | not-run")
    output: str = ""


_LITERAL = ("a plain string is not one of those literal values: check it against them, or write "
            "`value as TheType` where it can only be one of them")
_UNDEFINED = "the value may be undefined here: check it first, or give a default with ??"

#: What a common strict-mode finding asks for, in a line a small coder can act on: general
#: TypeScript knowledge keyed by diagnostic code (and, where one code covers several cases, by
#: its message), never anything from a task. Shown the bare diagnostic with its line, a small
#: model tends to copy the line back unchanged.
HINTS: tuple[tuple[str, str, str], ...] = (
    ("TS2322", r"^Type 'string' is not assignable to type '(?:\"|[^']*\")",
     _LITERAL),
    ("TS2345", r"^Argument of type 'string' is not assignable to parameter of type '(?:\"|[^']*\")",
     _LITERAL),
    ("TS2532", "", _UNDEFINED),
    ("TS18048", "", _UNDEFINED),
    ("TS2345", "undefined", _UNDEFINED),
    ("TS2322", "undefined", _UNDEFINED),
    ("TS2588", "", "declare it with let instead of const, or compute a new const"),
    ("TS7006", "", "give the parameter an explicit type"),
    ("TS7031", "", "give the destructured parameter an explicit type"),
    ("TS2300", "", "the name is declared twice: keep one declaration"),
    ("TS2451", "", "the name is declared twice: keep one declaration"),
    ("TS2307", "", "import only from modules that exist: the file's own imports and the files "
     "named in the task"),
    ("@typescript-eslint/no-explicit-any", "",
     "replace `any` with the real type: an interface or type for the value's fields"),
)


#: Messages that say "Object" where they mean the expression at the column (TS2532, TS2531,
#: TS18047/18049 "Object is possibly 'null'"): a small coder guards the wrong operand.
_UNNAMED_RE = re.compile(r"^Object is possibly")
_EXPR_RE = re.compile(r"[A-Za-z_$][\w$]*(?:\??\.[A-Za-z_$][\w$]*|\[[^\[\]\n]*\])*")


def _expression_at(line: str, column: int) -> str:
    """The member chain starting at 1-based ``column`` of ``line``, with the call that ends it
    (``totals.get(order.customer)``), or "" when none starts there."""
    if column <= 0 or column > len(line):
        return ""
    m = _EXPR_RE.match(line, column - 1)
    if not m:
        return ""
    end = m.end()
    if line[end:end + 1] == "(":
        toks = tokenize(line[end:])
        close = match_bracket(toks, 0)
        if close == 0 or not toks[close].is_(")") or toks[close].depth != toks[0].depth:
            return ""
        end += toks[close].end
    return line[m.start():end][:120]


def hint_for(code: str, message: str) -> str:
    """The :data:`HINTS` line for a finding, or ""."""
    for c, pattern, hint in HINTS:
        if c == code and (not pattern or re.search(pattern, message)):
            return hint
    return ""


class Diagnostic(BaseModel):
    """One compiler or lint finding on the candidate's file."""

    tool: str = Field(description="tsc | eslint")
    line: int = 0
    column: int = 0
    code: str = ""
    message: str

    def render(self, source: list[str] | None = None) -> str:
        """One line; with ``source`` (the file's lines), a second quoting the line it points at
        (and, where the message does not name it, the expression the column points at)."""
        where = f"line {self.line}: " if self.line else ""
        at = ""
        if source and 0 < self.line <= len(source) and source[self.line - 1].strip():
            at = f"\n    at: {source[self.line - 1].strip()[:160]}"
            expr = (_expression_at(source[self.line - 1], self.column)
                    if _UNNAMED_RE.match(self.message) else "")
            if expr:
                at += f"\n    the expression: {expr}"
        hint = hint_for(self.code, self.message)
        if source is not None and hint:
            at += f"\n    hint: {hint}"
        return f"{where}{self.tool} {self.code}: {self.message}{at}"


class Evidence(BaseModel):
    """The verifier's verdict on one candidate; everything the selection and repair work from."""

    candidate: str
    compiles: bool
    compile_errors: list[Diagnostic] = Field(default_factory=list)
    lint_errors: list[Diagnostic] = Field(default_factory=list)
    lint_ran: bool = False
    probes: list[ProbeRun] = Field(default_factory=list)
    asserts_passed: int = 0
    asserts_total: int = 0
    same_as_starter: bool = False
    unchanged: bool = False
    # Names the original file exports and this candidate no longer does.
    missing_exports: list[str] = Field(default_factory=list)
    # Findings outside the rewritten part of a focused file that the original has too: not
    # counted against the candidate (the rest of the file is not its work).
    preexisting: int = 0
    # What the sandbox refused while the probes ran this candidate (a write outside its
    # folder, a process, the network): code that tries is never a pass.
    refused: list[str] = Field(default_factory=list)
    # For a file inside a project: what the project's own tsc, eslint and covering tests said
    # with this candidate in place (added_tsc, added_lint, tests {files, ran, passed, failed,
    # problem}, newly_failing [{file, name, message}]); None for a lone file.
    project: dict | None = None

    @property
    def project_failures(self) -> list[str]:
        """The project checks this candidate fails: project-tsc, project-lint, tests."""
        if not self.project:
            return []
        out = []
        if self.project.get("added_tsc") and self.compiles:
            out.append("project-tsc")
        if self.project.get("added_lint"):
            out.append("project-lint")
        if self.project.get("newly_failing") or self.project.get("tests_stopped"):
            out.append("tests")
        return out

    @property
    def signature(self) -> tuple[str, ...]:
        """Behaviour on the probes, for grouping candidates that act alike."""
        return tuple(f"{p.status}:{p.output}" for p in self.probes)

    @property
    def passes_all(self) -> bool:
        """Compiles, lint-clean, keeps the original's exports, every assertion holds, and it
        does not act like the starter, and the sandbox refused nothing it tried."""
        return (self.compiles and not self.lint_errors and not self.unchanged
                and not self.missing_exports and not self.same_as_starter
                and not self.refused and not self.project_failures
                and self.asserts_passed == self.asserts_total)

    def failed_checks(self) -> list[str]:
        """The names of the checks this candidate fails (empty when it passes everything)."""
        out = []
        if self.unchanged:
            out.append("unchanged")
        if not self.compiles:
            out.append("tsc")
        if self.lint_errors:
            out.append("lint")
        if self.missing_exports:
            out.append("exports")
        if self.asserts_passed < self.asserts_total:
            out.append("asserts")
        if self.same_as_starter:
            out.append("behaves-like-starter")
        if self.refused:
            out.append("sandbox")
        return out + self.project_failures

    def facts(self, limit: int = 6, source: str | None = None) -> str:
        """The verifier's findings as plain lines, for a repair prompt or an evidence message.

        With ``source`` (the judged file's text), each diagnostic quotes the line it points at:
        a small coder cannot count lines, and for a part of a file the numbers are the whole
        file's."""
        src = source.splitlines() if source is not None else None
        lines: list[str] = []
        if self.unchanged:
            lines.append("The file is unchanged from the starter: the task is not done. "
                         "Change the code; do not copy it back.")
        for d in self.compile_errors[:limit]:
            lines.append(f"tsc --strict: {d.render(src)}")
        for d in self.lint_errors[:limit]:
            lines.append(f"eslint: {d.render(src)}")
        if self.missing_exports:
            names = ", ".join(self.missing_exports)
            lines.append(f"The file no longer exports {names}, which the original exported: "
                         "keep every export (other files import them).")
        for p in self.probes:
            if p.status == "assert-failed":
                lines.append(f"probe {p.probe} failed an assertion: {p.output[-300:]}")
            elif p.status in ("threw", "timed-out", "killed"):
                lines.append(f"probe {p.probe} {p.status}: {p.output[-300:]}")
        if self.same_as_starter:
            lines.append("On every probe it prints exactly what the original (buggy) code "
                         "prints: the bug is probably still there.")
        if self.refused:
            lines.append(f"The code tried something the sandbox refuses ({self.refused[0]}): "
                         "do not write files, start processes, send signals or use the network.")
        lines += self._project_facts(limit)
        return "\n".join(lines)

    def _project_facts(self, limit: int) -> list[str]:
        if not self.project:
            return []
        lines = [f"the project's tsc: {d}" for d in self.project.get("added_tsc", [])[:limit]]
        lines += [f"the project's eslint: {m}" for m in self.project.get("added_lint", [])[:limit]]
        for t in self.project.get("newly_failing", [])[:limit]:
            lines.append(f"the project's test {t['file']} > {t['name']} fails: {t['message']}")
        if self.project.get("tests_stopped"):
            lines.append(f"the project's covering tests no longer run: "
                         f"{self.project.get('tests', {}).get('problem', '')}")
        return lines

    def tests_line(self) -> str:
        """The covering tests' result, for the verdict message ('' when none ran)."""
        tests = (self.project or {}).get("tests") or {}
        if not tests.get("ran"):
            return ""
        return (f"the project's covering tests: {tests['passed']} passed, {tests['failed']} "
                f"failed ({len(tests.get('files', []))} test files)")

    def summary(self) -> str:
        """One line: which checks pass or fail."""
        rest = (f" (not counted: {self.preexisting} finding(s) the original already has outside "
                "the rewritten part)" if self.preexisting else "")
        if self.passes_all:
            return (f"{self.candidate}: passes tsc, lint and {self.asserts_passed}/"
                    f"{self.asserts_total} assertions on {len(self.probes)} probes{rest}")
        return f"{self.candidate}: fails {', '.join(self.failed_checks())}{rest}"
