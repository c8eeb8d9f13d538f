"""Turn model replies into code: fenced whole-file blocks or unified diffs, applied leniently.

Small models are sloppy with diff headers and line counts, so a hunk is applied by finding its
context/removed lines in the original text (whitespace-insensitive at line ends), not by trusting
the ``@@`` numbers.
"""

from __future__ import annotations

import difflib
import re

_FENCE_RE = re.compile(r"```[ \t]*([A-Za-z0-9_+-]*)[^\n]*\n(.*?)(?:```|\Z)", re.S)
_CODE_LANGS = {"", "ts", "tsx", "typescript", "javascript", "js", "jsx", "typescriptreact"}


class PatchError(ValueError):
    """A diff did not match the text it was meant for."""


def fenced_blocks(reply: str) -> list[tuple[str, str]]:
    """All fenced blocks in a reply as (language, body); an unclosed last fence counts (cut-off
    replies at max_tokens end that way)."""
    return [(m.group(1).lower(), m.group(2)) for m in _FENCE_RE.finditer(reply)]


def looks_like_diff(text: str) -> bool:
    lines = text.splitlines()
    has_hunk = any(line.startswith("@@") for line in lines)
    has_headers = any(line.startswith(("--- ", "+++ ")) for line in lines)
    return has_hunk or (has_headers and any(line.startswith(("+", "-")) for line in lines))


def extract_change(reply: str, original: str) -> tuple[str | None, str]:
    """The new text a reply proposes for ``original``, and how it was given.

    Returns (text, "file") for a fenced code block, (text, "diff") for a unified diff that applied,
    or (None, reason) when the reply holds neither.
    """
    blocks = fenced_blocks(reply)
    for lang, body in blocks:
        if lang in ("diff", "patch") or (lang in _CODE_LANGS and looks_like_diff(body)):
            try:
                return apply_unified_diff(original, body), "diff"
            except PatchError as exc:
                return None, f"the diff did not apply: {exc}"
    code = [body for lang, body in blocks if lang in _CODE_LANGS and body.strip()]
    if code:
        # The longest block is the rewrite; shorter ones tend to be quoted snippets.
        return max(code, key=len).rstrip() + "\n", "file"
    if looks_like_diff(reply):
        try:
            return apply_unified_diff(original, reply), "diff"
        except PatchError as exc:
            return None, f"the diff did not apply: {exc}"
    return None, "the reply held no fenced code block and no unified diff"


def _hunks(diff: str) -> list[list[str]]:
    hunks: list[list[str]] = []
    current: list[str] | None = None
    for line in diff.splitlines():
        if line.startswith("@@"):
            current = []
            hunks.append(current)
        elif line.startswith(("--- ", "+++ ", "diff ", "index ")) and (current is None or not current):
            continue
        elif current is not None and (line[:1] in (" ", "+", "-") or line == ""):
            current.append(line)
        elif current is None and line[:1] in ("+", "-", " "):
            # A diff with no @@ line at all: treat everything as one hunk.
            current = [line]
            hunks.append(current)
    return [h for h in hunks if any(x[:1] in "+-" for x in h if x)]


def apply_unified_diff(original: str, diff: str) -> str:
    """Apply a unified diff by locating each hunk's old lines in ``original``."""
    hunks = _hunks(diff)
    if not hunks:
        raise PatchError("no hunks found")
    lines = original.splitlines()
    start_at = 0
    for hunk in hunks:
        old = [h[1:] if h else "" for h in hunk if not h.startswith("+")]
        new = [h[1:] if h else "" for h in hunk if not h.startswith("-")]
        while old and not old[-1].strip() and new and not new[-1].strip():
            old.pop()
            new.pop()
        pos = _find(lines, old, start_at)
        if pos is None:
            pos = _find(lines, old, 0)
        if pos is None:
            first = next((x for x in old if x.strip()), "")
            raise PatchError(f"hunk context not found near {first.strip()[:60]!r}")
        lines[pos:pos + len(old)] = new
        start_at = pos + len(new)
    text = "\n".join(lines)
    return text + "\n" if original.endswith("\n") or not original else text


def _find(lines: list[str], block: list[str], start: int) -> int | None:
    if not block:
        return start
    want = [b.rstrip() for b in block]
    for i in range(start, len(lines) - len(block) + 1):
        if all(lines[i + j].rstrip() == want[j] for j in range(len(block))):
            return i
    # Models often get indentation wrong in context lines; accept a match ignoring it.
    want_s = [b.strip() for b in block]
    for i in range(start, len(lines) - len(block) + 1):
        if all(lines[i + j].strip() == want_s[j] for j in range(len(block))):
            return i
    return None


def unified_diff(old: str, new: str, old_name: str, new_name: str | None = None) -> str:
    """A standard unified diff (3 lines of context) between two texts."""
    return "".join(difflib.unified_diff(
        old.splitlines(keepends=True), new.splitlines(keepends=True),
        fromfile=f"a/{old_name}", tofile=f"b/{new_name or old_name}"))


_IMPORT_RE = re.compile(r"^import\s[^;]*?\bfrom\s+[\"'](?P<mod>[^\"']+)[\"'];?[ \t]*(?:\n|$)",
                        re.M | re.S)
_NAMED_RE = re.compile(r"\{(?P<names>[^}]*)\}", re.S)


def _named(statement: str) -> list[str]:
    m = _NAMED_RE.search(statement)
    if not m:
        return []
    return [n.strip() for n in m["names"].split(",") if n.strip()]


def merge_imports(imports_text: str, wanted: list[tuple[str, str]]) -> str:
    """Add the names of ``wanted`` import statements missing from ``imports_text``."""
    out = imports_text
    for module, statement in wanted:
        names = _named(statement)
        existing = [m for m in _IMPORT_RE.finditer(out) if m["mod"] == module
                    and _NAMED_RE.search(m.group(0)) and not m.group(0).startswith("import type")]
        if existing and names:
            m = existing[0]
            have = _named(m.group(0))
            have_bare = {h.replace("type ", "").split(" as ")[-1].strip() for h in have}
            add = [n for n in names if n.replace("type ", "").split(" as ")[-1].strip()
                   not in have_bare]
            if add:
                old = m.group(0)
                new = _NAMED_RE.sub("{ " + ", ".join(have + add).replace("\\", "") + " }", old, count=1)
                out = out.replace(old, new, 1)
        elif not any(m["mod"] == module for m in _IMPORT_RE.finditer(out)):
            last = list(_IMPORT_RE.finditer(out))
            pos = last[-1].end() if last else 0
            line = statement if statement.endswith(";") else statement + ";"
            out = out[:pos] + line + "\n" + out[pos:]
    return out
