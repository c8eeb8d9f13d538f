"""Split a TypeScript file into chunks a small model can rewrite, and put it back together.

Top-level items (imports, types, components, hooks, functions) are found at bracket depth 0 on
lines that start in column 0. An item too big for the token budget is split again inside its
body, between statements at the body's own indentation (hooks, handlers, the JSX return).
Chunks partition the text exactly: joining their texts in order gives the file back, so a chunk
can be replaced and the file reassembled without touching anything else.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from .lexer import Token, line_starts, tokenize

_DECL_RE = re.compile(
    r"^(?:export\s+)?(?:default\s+)?(?:declare\s+)?(?:async\s+)?"
    r"(?P<kw>function\*?|const|let|var|class|interface|type|enum|import|abstract\s+class)\b\s*"
    r"(?P<name>[A-Za-z_$][\w$]*)?")


def estimate_tokens(text: str) -> int:
    """Rough token count for planning (code runs ~3.2 characters per token in these models)."""
    return max(1, int(len(text) / 3.2))


@dataclass
class Chunk:
    """A contiguous span of one file that is rewritten as a unit."""

    file: str
    index: int
    kind: str  # imports | type | component | hook | function | const | class | other | part
    name: str
    start: int
    end: int
    text: str
    start_line: int
    end_line: int
    context: str = ""  # what a model needs to see around a part of a larger item
    parent: str = ""

    @property
    def label(self) -> str:
        base = f"{self.parent} (part)" if self.parent else self.name
        return f"{self.file}:{self.start_line}-{self.end_line} {self.kind} {base}"


@dataclass
class SplitFile:
    """A file as a list of chunks; ``texts`` holds the current (possibly rewritten) text of each."""

    file: str
    original: str
    chunks: list[Chunk]
    texts: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.texts:
            self.texts = [c.text for c in self.chunks]

    def assemble(self, replace: dict[int, str] | None = None) -> str:
        replace = replace or {}
        return "".join(replace.get(i, t) for i, t in enumerate(self.texts))


def _classify(head: str) -> tuple[str, str]:
    m = _DECL_RE.match(head)
    if not m:
        return "other", ""
    kw, name = m["kw"], m["name"] or ""
    if kw == "import":
        return "imports", "imports"
    if kw in ("interface", "type", "enum"):
        return "type", name
    if "class" in kw:
        return "class", name
    if kw.startswith("function") or re.search(r"=\s*(?:async\s+)?(?:function\b|\([^)]*\)\s*(?::[^=]+)?=>|[A-Za-z_$][\w$]*\s*=>)", head.split("\n", 1)[0]):
        if not name and "default" in head.split("(")[0]:
            name = "default"
        if re.match(r"use[A-Z0-9]", name):
            return "hook", name
        if name[:1].isupper():
            return "component", name
        return "function", name
    return "const", name


def _boundary_lines(src: str, toks: list[Token], depth: int, indent: int,
                    lo: int, hi: int) -> list[int]:
    """Offsets in [lo, hi) of lines that begin a statement at ``depth`` with ``indent`` spaces."""
    starts = line_starts(src)
    inside = [(t.start, t.end) for t in toks if t.kind in ("template", "comment") and "\n" in t.text]
    out = []
    k = 0
    for s in starts:
        if s < lo or s >= hi:
            continue
        first = s + indent
        if first >= len(src) or src[s:first].strip() or src[first] in " \t\n)]}":
            continue
        if any(a < s < b for a, b in inside):
            continue
        while k < len(toks) and toks[k].start < first:
            k += 1
        if k >= len(toks) or toks[k].start != first or toks[k].depth != depth:
            continue
        out.append(s)
    return out


def _attach_comments(src: str, toks: list[Token], bounds: list[int]) -> list[int]:
    """Drop a boundary that directly follows a comment-only line so the comment stays with the
    code it describes (comment lines are themselves boundaries, so keep the comment's one)."""
    comment_starts = {t.start for t in toks if t.kind == "comment"}
    kept: list[int] = []
    prev_was_comment = False
    for b in bounds:
        first = b + (len(src[b:]) - len(src[b:].lstrip(" \t")))
        is_comment = first in comment_starts
        if prev_was_comment and kept and src[kept[-1]:b].strip() and not src[kept[-1]:b].rstrip(
                " \t").endswith("\n\n"):
            # previous boundary was a comment block that runs straight into this line
            prev_was_comment = is_comment
            continue
        kept.append(b)
        prev_was_comment = is_comment
    return kept


def _line_of(starts: list[int], offset: int) -> int:
    lo, hi = 0, len(starts) - 1
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if starts[mid] <= offset:
            lo = mid
        else:
            hi = mid - 1
    return lo + 1


def split_source(file: str, src: str, *, max_chunk_tokens: int = 700,
                 count: Callable[[str], int] = estimate_tokens) -> SplitFile:
    """Split ``src`` into chunks of at most ``max_chunk_tokens`` where the code allows it."""
    toks = tokenize(src, keep_comments=True)
    starts = line_starts(src)
    bounds = _attach_comments(src, toks, _boundary_lines(src, toks, 0, 0, 0, len(src)))
    if not bounds or bounds[0] != 0:
        bounds = [0, *bounds]
    spans = list(zip(bounds, [*bounds[1:], len(src)], strict=True))
    items: list[tuple[int, int, str, str]] = []
    for a, b in spans:
        code = _strip_leading_comments(src[a:b])
        kind, name = _classify(code)
        if items and kind == "imports" and items[-1][2] == "imports":
            items[-1] = (items[-1][0], b, "imports", "imports")
        else:
            items.append((a, b, kind, name))
    chunks: list[Chunk] = []
    for a, b, kind, name in items:
        text = src[a:b]
        if count(text) > max_chunk_tokens and kind in ("component", "hook", "function", "class"):
            parts = _split_body(src, toks, a, b, max_chunk_tokens, count)
            if len(parts) > 1:
                head = _signature(src, a, b)
                names = ", ".join(_declared_names(src[a:b])[:40])
                for pa, pb in parts:
                    chunks.append(Chunk(
                        file=file, index=len(chunks), kind="part", name=name, start=pa, end=pb,
                        text=src[pa:pb], start_line=_line_of(starts, pa),
                        end_line=_line_of(starts, max(pa, pb - 1)), parent=name,
                        context=(f"This is one part of `{name}` ({kind}), lines "
                                 f"{_line_of(starts, a)}-{_line_of(starts, max(a, b - 1))}. "
                                 f"Its signature:\n{head}\nNames declared in its body: {names}")))
                continue
        chunks.append(Chunk(file=file, index=len(chunks), kind=kind, name=name, start=a, end=b,
                            text=text, start_line=_line_of(starts, a),
                            end_line=_line_of(starts, max(a, b - 1))))
    return SplitFile(file=file, original=src, chunks=chunks)


def _strip_leading_comments(text: str) -> str:
    t = text.lstrip()
    while t.startswith(("//", "/*")):
        if t.startswith("//"):
            t = t.split("\n", 1)[1] if "\n" in t else ""
        else:
            t = t.split("*/", 1)[1] if "*/" in t else ""
        t = t.lstrip()
    return t


def _signature(src: str, a: int, b: int) -> str:
    code = src[a:b]
    lines = _strip_leading_comments(code).splitlines()
    head = []
    for line in lines:
        head.append(line)
        if line.rstrip().endswith(("{", "=> {")) and "(" in "".join(head):
            break
        if len(head) >= 12:
            break
    return "\n".join(head)


_NAME_RE = re.compile(r"^\s+(?:const|let|var|function)\s+(\[[^\]]*\]|\{[^}]*\}|[A-Za-z_$][\w$]*)",
                      re.M)


def _declared_names(text: str) -> list[str]:
    names: list[str] = []
    for m in _NAME_RE.finditer(text):
        names.extend(re.findall(r"[A-Za-z_$][\w$]*", m.group(1)))
    return list(dict.fromkeys(names))


def _split_body(src: str, toks: list[Token], a: int, b: int, budget: int,
                count: Callable[[str], int]) -> list[tuple[int, int]]:
    item = [t for t in toks if a <= t.start < b and t.kind != "comment"]
    closes = [k for k, t in enumerate(item) if t.is_("}") and t.depth == 0]
    if not closes:
        return [(a, b)]
    close = closes[-1]
    opens = [k for k in range(close) if item[k].is_("{") and item[k].depth == 0]
    if not opens:
        return [(a, b)]
    body_open = item[opens[-1]]
    body_close = item[close]
    inner = [t for t in item if body_open.end <= t.start < body_close.start]
    if not inner:
        return [(a, b)]
    first = inner[0]
    line_start = src.rfind("\n", 0, first.start) + 1
    indent = first.start - line_start
    bounds = _boundary_lines(src, [t for t in toks if a <= t.start < b], 1, indent,
                             body_open.end, body_close.start)
    bounds = _attach_comments(src, [t for t in toks if a <= t.start < b], bounds)
    if not bounds:
        return [(a, b)]
    # Statement spans, the head glued to the first and the closing brace to the last.
    cuts = [a, *bounds[1:], b] if bounds[0] > a else [a, *bounds, b]
    pieces = [(cuts[i], cuts[i + 1]) for i in range(len(cuts) - 1) if cuts[i] < cuts[i + 1]]
    groups: list[tuple[int, int]] = []
    for pa, pb in pieces:
        if groups and count(src[groups[-1][0]:pb]) <= budget:
            groups[-1] = (groups[-1][0], pb)
        else:
            groups.append((pa, pb))
    return groups
