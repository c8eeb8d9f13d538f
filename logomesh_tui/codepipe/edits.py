"""Small, local edits: the lines a finding is about, and the search/replace blocks that change
them. A whole-file rewrite is never applied; an edit touches only the text it names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..source.lexer import CLOSE, bracket_balance
from ..source.patches import fenced_blocks, merge_imports

# A SEARCH/REPLACE block, optionally after a line naming the file it edits (a path alone on
# its line, as aider writes it, or "FILE: path").
_SR_RE = re.compile(
    r"(?:^[ \t]*(?:file\s*:?\s*)?`?(?P<file>[\w@.\-/]+\.[cm]?[jt]sx?)`?[ \t]*:?\n"
    r"(?:```\w*\n)?)?"
    r"<{5,9} ?SEARCH[^\n]*\n(?P<search>.*?)\n?={5,9}[^\n]*\n(?P<replace>.*?)\n?>{5,9} ?REPLACE",
    re.S | re.M | re.I)
_HOOK_RE = re.compile(r"\buse[A-Z]\w*\s*\(")


@dataclass(frozen=True)
class Edit:
    """Replace the exact text ``search`` (once) with ``replace``, in ``file`` when the reply
    named one (else in the file the finding is in)."""

    search: str
    replace: str
    file: str | None = None

    def apply(self, text: str) -> str | None:
        """The new text, or None when ``search`` does not occur exactly once."""
        if not self.search or text.count(self.search) != 1:
            return None
        return text.replace(self.search, self.replace, 1)

    @property
    def size(self) -> int:
        """Characters changed: the smaller, the better (ties between passing edits)."""
        a, b = self.search, self.replace
        i = 0
        while i < min(len(a), len(b)) and a[i] == b[i]:
            i += 1
        j = 0
        while j < min(len(a), len(b)) - i and a[-1 - j] == b[-1 - j]:
            j += 1
        return (len(a) - i - j) + (len(b) - i - j)


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def excerpt_range(text: str, line: int, *, hook: bool = False, max_lines: int = 30
                  ) -> tuple[int, int]:
    """1-based inclusive line range around ``line``: the smallest balanced statement holding it
    (for hook findings, the whole hook call), at most ``max_lines`` long; else the line alone."""
    lines = text.splitlines()
    n = len(lines)
    line = max(1, min(line, n))
    best: tuple[int, int] | None = None
    for a in range(line, max(0, line - max_lines), -1):
        head = lines[a - 1].lstrip()
        if not head or head[0] in CLOSE or head.startswith("."):
            continue
        if hook and not _HOOK_RE.search(lines[a - 1]):
            continue
        for b in range(line, min(n, a + max_lines - 1) + 1):
            chunk = "\n".join(lines[a - 1:b])
            if (bracket_balance(chunk) == 0
                    and not lines[b - 1].rstrip().endswith((",", "(", "{", "["))):
                if best is None or b - a < best[1] - best[0]:
                    best = (a, b)
                break
        if best is not None:
            break
    return best or (line, line)


def lines_of(text: str, start: int, end: int) -> str:
    return "\n".join(text.splitlines()[start - 1:end])


def edits_from_reply(reply: str, excerpt: str) -> list[list[Edit]]:
    """Candidate edit sets from a model reply: its SEARCH/REPLACE blocks (all together), and
    a fenced block taken as the new version of ``excerpt``. Empty when it holds neither."""
    out: list[list[Edit]] = []
    blocks = [Edit(m["search"], m["replace"], m["file"]) for m in _SR_RE.finditer(reply)]
    if blocks:
        out.append(blocks)
    code = [body for lang, body in fenced_blocks(reply)
            if lang in ("", "ts", "tsx", "typescript", "javascript", "js", "jsx")
            and body.strip() and "SEARCH" not in body]
    if code and excerpt:
        new = max(code, key=len).rstrip("\n")
        # Models drop or add the excerpt's indentation; keep the original's first-line indent.
        pad = excerpt[:len(excerpt) - len(excerpt.lstrip(" "))]
        if new and not new.startswith(" ") and pad:
            new = "\n".join(pad + x if x.strip() else x for x in new.splitlines())
        if new.strip() != excerpt.strip():
            out.append([Edit(excerpt, new)])
            if blocks:
                # The prompt asks for the lines plus blocks for what else the fix needs.
                out.append([Edit(excerpt, new), *blocks])
    return out


def scope_name(files: dict[str, str], name: str) -> str | None:
    """The key of ``files`` that ``name`` (as a model wrote it) stands for: the same path, or
    the one file whose path ends with it or that it ends with (a path from the project's root);
    None when none or several do."""
    name = name.strip().removeprefix("./")
    if name in files:
        return name
    hits = [f for f in files if f.endswith("/" + name) or name.endswith("/" + f)]
    return hits[0] if len(hits) == 1 else None


def apply_edit_set(files: dict[str, str], target: str, edits: list[Edit]
                   ) -> dict[str, str] | str:
    """``files`` with ``edits`` applied (an edit naming no file edits ``target``); a string
    saying why when an edit names a file outside ``files`` or does not match."""
    out = dict(files)
    for e in edits:
        name = target if e.file is None else scope_name(files, e.file)
        if name is None:
            return (f"the edit names {e.file}, which is not one of the files being refactored "
                    f"({', '.join(sorted(files)[:6])})")
        new = e.apply(out[name])
        if new is None:
            return "the edit did not match the file" + ("" if name == target else f" {name}")
        out[name] = new
    return out


def apply_range_fix(text: str, start: int, end: int, replacement: str) -> str:
    """An eslint suggestion: characters ``start:end`` become ``replacement``."""
    return text[:start] + replacement + text[end:]


REACT_HOOKS = ("useMemo", "useCallback", "useRef", "useState", "useEffect", "useLayoutEffect",
               "useReducer", "useContext", "useId", "useTransition", "useDeferredValue")


def ensure_react_imports(text: str) -> str:
    """Import the React hooks the text calls but does not import or declare: a local edit that
    introduces useMemo cannot reach the import line at the top of the file."""
    used = {h for h in REACT_HOOKS if re.search(rf"(?<![\w$.]){h}\s*[(<]", text)}
    imported = set()
    for m in re.finditer(r"import\s*(?:\w+\s*,\s*)?\{([^}]*)\}\s*from\s*[\"']react[\"']", text):
        imported |= {n.strip().split(" as ")[-1] for n in m.group(1).split(",") if n.strip()}
    declared = {h for h in used if re.search(rf"(?:function|const|let|var)\s+{h}\b", text)}
    missing = sorted(used - imported - declared - {h for h in used if f"React.{h}" in text
                                                   and not re.search(rf"(?<![.\w]){h}\(", text)})
    if not missing:
        return text
    return merge_imports(text, [("react", f'import {{ {", ".join(missing)} }} from "react";')])


_DECL_RE = re.compile(r"^(?P<indent>\s*)(?P<kw>const|let)\s+(?P<name>[A-Za-z_$][\w$]*)"
                      r"(?P<type>\s*:[^=]+)?\s*=\s*(?P<expr>.*?);?\s*$", re.S)


def memoize_declaration(text: str, start: int, end: int) -> str | None:
    """The declaration on lines ``start``-``end`` (``const x = <object, array or function>;``)
    wrapped so it keeps its identity between renders: ``useMemo(() => (...), [])`` for a
    value, ``useCallback(..., [])`` for a function. The dependency list starts empty; the lint
    in the gate says which names it must hold. None when the lines are not such a declaration."""
    lines = text.splitlines(keepends=True)
    block = "".join(lines[start - 1:end])
    m = _DECL_RE.match(block.rstrip("\n"))
    if not m or m["kw"] != "const":
        return None
    expr = m["expr"].strip()
    head = f'{m["indent"]}const {m["name"]}{m["type"] or ""} = '
    if re.match(r"(?:async\s+)?(?:\([^)]*\)|[A-Za-z_$][\w$]*)\s*(?::[^=]+)?=>", expr) or \
            expr.startswith("function"):
        new = f"{head}useCallback({expr}, []);"
    elif expr[:1] in "{[" or expr.startswith("new "):
        new = f"{head}useMemo(() => ({expr}), []);"
    else:
        return None
    tail = "\n" if block.endswith("\n") else ""
    return "".join(lines[:start - 1]) + new + tail + "".join(lines[end:])


def clear_timer_in_effect(text: str, line: int) -> str | None:
    """For ``setInterval(...)``/``setTimeout(...)`` started as a statement at the top of an
    effect's body that returns nothing: keep its id and return the cleanup that clears it.
    None when the code has another shape (the models get it then)."""
    lines = text.splitlines(keepends=True)
    a, b = excerpt_range(text, line, hook=True)
    head = lines[a - 1] if a <= len(lines) else ""
    if not re.search(r"\buse(?:Layout)?Effect\s*\(", head) or a == line:
        return None
    call = lines[line - 1]
    m = re.match(r"^(\s*)(set(Interval|Timeout))\(", call)
    if not m:
        return None
    body = "".join(lines[a:b - 1])
    indent = m.group(1)
    if re.search(r"\breturn\b", body) or len(indent) != _indent(head) + 2:
        return None
    clear = "clearInterval" if m.group(3) == "Interval" else "clearTimeout"
    name = "timer" if not re.search(r"\btimer\b", text) else "timerId"
    new = list(lines)
    new[line - 1] = f"{indent}const {name} = {call.lstrip()}"
    new.insert(b - 1, f"{indent}return () => {clear}({name});\n")
    return "".join(new)
