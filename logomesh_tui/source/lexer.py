"""A small TypeScript/TSX tokenizer: enough to find brackets, identifiers and statements.

It is not a parser. It knows comments, string and template literals (with nested ``${}``),
regular-expression literals (by the usual previous-token rule) and numbers, so braces inside
them do not count. JSX text is tokenized like code; a quote that does not close on its own line
(``Don't`` in JSX text) is taken as a lone character rather than opening a string, which keeps
bracket depth right for idiomatic components.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

_PUNCT3 = ("===", "!==", "...", "**=", "<<=", ">>=", "&&=", "||=", "??=")
_PUNCT2 = ("=>", "==", "!=", "<=", ">=", "&&", "||", "??", "?.", "++", "--", "+=", "-=", "*=",
           "/=", "**", "<<")
_REGEX_AFTER = set("(,=:[!&|?{};+-*%<>~^") | {"return", "typeof", "case", "do", "else", "in",
                                            "of", "=>", "&&", "||", "??", "==", "===", "!=",
                                            "!==", "delete", "void", "throw"}
OPEN = {"(": ")", "[": "]", "{": "}"}
CLOSE = {")": "(", "]": "[", "}": "{"}


@dataclass
class Token:
    kind: str  # ident | number | string | template | regex | punct | comment
    text: str
    start: int
    end: int
    line: int  # 1-based
    depth: int = 0  # open brackets before this token

    def is_(self, text: str) -> bool:
        return self.kind in ("punct", "ident") and self.text == text


def tokenize(src: str, *, keep_comments: bool = False) -> list[Token]:
    """Tokens of ``src`` with bracket depth filled in. Never raises on odd input."""
    toks: list[Token] = []
    i, n, line = 0, len(src), 1
    # Each entry is "{" (a brace) or "${" (a template substitution to resume after).
    braces: list[str] = []

    while i < n:
        c = src[i]
        if c == "\n":
            line += 1
            i += 1
            continue
        if c in " \t\r\f\v":
            i += 1
            continue
        if src.startswith("//", i):
            j = src.find("\n", i)
            j = n if j < 0 else j
            if keep_comments:
                toks.append(Token("comment", src[i:j], i, j, line))
            i = j
            continue
        if src.startswith("/*", i):
            j = src.find("*/", i + 2)
            j = n if j < 0 else j + 2
            if keep_comments:
                toks.append(Token("comment", src[i:j], i, j, line))
            line += src.count("\n", i, j)
            i = j
            continue
        if c in "'\"":
            j = i + 1
            while j < n and src[j] != c and src[j] != "\n":
                j += 2 if src[j] == "\\" else 1
            if j < n and src[j] == c:
                toks.append(Token("string", src[i:j + 1], i, j + 1, line))
                i = j + 1
            else:
                toks.append(Token("punct", c, i, i + 1, line))
                i += 1
            continue
        if c == "`" or (c == "}" and braces and braces[-1] == "${"):
            if c == "}":  # the end of a substitution: the template goes on
                braces.pop()
            j, subst = _scan_template(src, i + 1)
            toks.append(Token("template", src[i:j], i, j, line))
            line += src.count("\n", i, j)
            if subst:
                braces.append("${")
            i = j
            continue
        if c == "/" and (not toks or (toks[-1].kind in ("punct", "ident")
                                      and toks[-1].text in _REGEX_AFTER)):
            end = _regex_end(src, i)
            if end is not None:
                toks.append(Token("regex", src[i:end], i, end, line))
                i = end
                continue
        if c.isalpha() or c in "_$" or ord(c) > 127:
            j = i + 1
            while j < n and (src[j].isalnum() or src[j] in "_$" or ord(src[j]) > 127):
                j += 1
            toks.append(Token("ident", src[i:j], i, j, line))
            i = j
            continue
        if c.isdigit() or (c == "." and i + 1 < n and src[i + 1].isdigit()):
            j = i + 1
            while j < n and (src[j].isalnum() or src[j] in "._"):
                j += 1
            toks.append(Token("number", src[i:j], i, j, line))
            i = j
            continue
        for group in (_PUNCT3, _PUNCT2):
            hit = next((p for p in group if src.startswith(p, i)), None)
            if hit:
                toks.append(Token("punct", hit, i, i + len(hit), line))
                i += len(hit)
                break
        else:
            if c == "{":
                braces.append("{")
            elif c == "}" and braces:
                braces.pop()
            toks.append(Token("punct", c, i, i + 1, line))
            i += 1
    _fill_depth(toks)
    return toks


def _scan_template(src: str, j: int) -> tuple[int, bool]:
    """From inside a template at j, return (index after the chunk, ended_with_substitution)."""
    n = len(src)
    while j < n:
        c = src[j]
        if c == "\\":
            j += 2
            continue
        if c == "`":
            return j + 1, False
        if c == "$" and j + 1 < n and src[j + 1] == "{":
            return j + 2, True
        j += 1
    return n, False


def _regex_end(src: str, i: int) -> int | None:
    """The end of a regular-expression literal (flags included) starting with the ``/`` at i,
    or None when none closes on its line (then the ``/`` is division)."""
    n = len(src)
    j, in_class = i + 1, False
    while j < n and src[j] != "\n":
        if src[j] == "\\":
            j += 2
            continue
        if src[j] == "[":
            in_class = True
        elif src[j] == "]":
            in_class = False
        elif src[j] == "/" and not in_class:
            break
        j += 1
    if j >= n or src[j] != "/":
        return None
    j += 1
    while j < n and (src[j].isalnum() or src[j] == "_"):
        j += 1
    return j


def _fill_depth(toks: list[Token]) -> None:
    depth = 0
    for t in toks:
        if t.kind == "punct" and t.text in CLOSE:
            depth = max(0, depth - 1)
        t.depth = depth
        if t.kind == "punct" and t.text in OPEN:
            depth += 1


def match_bracket(toks: list[Token], i: int) -> int:
    """Index of the bracket closing the one at ``i`` (or the last token if unbalanced)."""
    want_depth = toks[i].depth
    for j in range(i + 1, len(toks)):
        t = toks[j]
        if t.kind == "punct" and t.text in CLOSE and t.depth == want_depth:
            return j
    return len(toks) - 1


def _bracket_depths(src: str) -> Iterator[tuple[Token, int]]:
    """Each bracket of ``src`` (outside strings, templates, regexes and comments) with the
    depth after it: 1 after a first opening bracket, 0 after the one that closes it."""
    depth = 0
    for t in tokenize(src):
        if t.kind == "punct" and (t.text in OPEN or t.text in CLOSE):
            depth += 1 if t.text in OPEN else -1
            yield t, depth


def bracket_balance(src: str) -> int:
    """Open brackets left unclosed at the end of ``src`` (outside strings, templates, regexes
    and comments), or -1 when a bracket closes before any opened it."""
    depth = 0
    for _, depth in _bracket_depths(src):
        if depth < 0:
            return -1
    return depth


def split_top(src: str, *, angles: bool = False) -> list[str]:
    """``src`` split at the commas outside brackets, strings, templates and comments; with
    ``angles`` also outside ``<...>`` (type arguments: ``Map<string, number>``)."""
    parts, depth, start = [], 0, 0
    for t in tokenize(src):
        if t.kind != "punct":
            continue
        if t.text in OPEN or (angles and t.text == "<"):
            depth += 1
        elif t.text in CLOSE or (angles and t.text == ">"):
            depth -= 1
        elif t.text == "," and depth == 0:
            parts.append(src[start:t.start])
            start = t.end
    parts.append(src[start:])
    return parts


def closing_bracket(src: str, pos: int) -> int:
    """The index after the bracket that closes the one at ``src[pos]`` (strings, templates and
    comments skipped); -1 when none does."""
    for t, depth in _bracket_depths(src[pos:]):
        if depth <= 0:
            return pos + t.end if depth == 0 else -1
    return -1


def line_starts(src: str) -> list[int]:
    """Offsets at which each line starts (index 0 is line 1)."""
    starts = [0]
    for idx, ch in enumerate(src):
        if ch == "\n":
            starts.append(idx + 1)
    return starts
