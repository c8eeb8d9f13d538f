"""Fitting a rewritten part back into its file.

When a file is too big for a reply, the models rewrite one part of it (``CodeTask.focus``).
Small models answer with a little file of their own: the part, plus copies of the imports and
of the types the rest of the file already declares, which fails tsc with "Duplicate
identifier" for that alone. :func:`fit_part` keeps what the part adds and drops what the rest
of the file already has:

- an import of names the file already imports or declares is dropped; an import that brings
  new names keeps only those (an import declaration may stand anywhere at a module's top level);
- a type, interface, enum, function, class or constant declared outside the part, and not in the
  original part, is dropped from the reply (the file's own stays; changing it is not the
  part's job).

Nothing else changes; the verifier judges the fitted file.
"""

from __future__ import annotations

import re

from ..source.splitter import split_source
from .types import CodeTask

_IMPORT_RE = re.compile(
    r"import\s+(?P<type>type\s+)?(?P<what>[^;]*?)\s*from\s*(?P<mod>[\"'][^\"']+[\"'])\s*;?",
    re.S)


def _imported(clause: str) -> tuple[str | None, str | None, list[tuple[str, str]]]:
    """(default name, namespace name, [(item text, local name)]) of an import clause."""
    default = namespace = None
    items: list[tuple[str, str]] = []
    braces = re.search(r"\{([^}]*)\}", clause)
    if braces:
        for item in braces.group(1).split(","):
            words = item.split()
            if words:
                items.append((" ".join(words), words[-1]))
    rest = re.sub(r"\{[^}]*\}", "", clause)
    ns = re.search(r"\*\s*as\s+([A-Za-z_$][\w$]*)", rest)
    if ns:
        namespace = ns.group(1)
        rest = rest.replace(ns.group(0), "")
    first = re.match(r"\s*([A-Za-z_$][\w$]*)", rest)
    if first:
        default = first.group(1)
    return default, namespace, items


def _names_imported(text: str) -> set[str]:
    names: set[str] = set()
    for m in _IMPORT_RE.finditer(text):
        default, namespace, items = _imported(m.group("what"))
        names.update(n for n in (default, namespace) if n)
        names.update(local for _, local in items)
    return names


def _fit_imports(chunk: str, known: set[str]) -> str:
    def keep(m: re.Match[str]) -> str:
        default, namespace, items = _imported(m.group("what"))
        default = default if default and default not in known else None
        namespace = namespace if namespace and namespace not in known else None
        items = [(t, local) for t, local in items if local not in known]
        parts = [p for p in (default, f"* as {namespace}" if namespace else None) if p]
        if items:
            parts.append("{ " + ", ".join(t for t, _ in items) + " }")
        if not parts:
            return ""
        return f"import {m.group('type') or ''}{', '.join(parts)} from {m.group('mod')};"
    out = _IMPORT_RE.sub(keep, chunk)
    return "\n".join(line for line in out.splitlines() if line.strip()) + ("\n" if out.strip()
                                                                           else "")


def fit_part(task: CodeTask, new_part: str) -> str:
    """``new_part`` without what the rest of the file already has (see the module docstring);
    unchanged for a task without a focus."""
    if task.focus is None:
        return new_part
    a, b = task.focus
    rest = task.starter[:a] + task.starter[b:]
    original = task.starter[a:b]
    known_imports = _names_imported(rest)
    declared_outside = {c.name for c in split_source(task.file_name, rest,
                                                     max_chunk_tokens=10**9).chunks
                        if c.name and c.kind not in ("imports", "other")}
    declared_inside = {c.name for c in split_source(task.file_name, original,
                                                    max_chunk_tokens=10**9).chunks if c.name}
    chunks = split_source(task.file_name, new_part, max_chunk_tokens=10**9).chunks
    out = []
    for c in chunks:
        if c.kind == "imports":
            # A name the rest of the file declares is not imported either (a small model
            # imports the file's own `Filters` type "from './types'").
            out.append(_fit_imports(c.text, known_imports | declared_outside))
        elif c.name and c.name in declared_outside and c.name not in declared_inside:
            continue
        else:
            out.append(c.text)
    fitted = "".join(out)
    if not fitted.strip():
        return new_part
    # The blank lines that ended the original part (before the next declaration) stay.
    trailing = original[len(original.rstrip("\n")):] or "\n"
    return fitted.rstrip("\n") + trailing


_IDENT_RE = re.compile(r"[A-Za-z_$][\w$]*")
_DECL_LINE_RE = (r"^\s*(?:export\s+)?(?:(?:async\s+)?function\s+{name}\b"
                 r"|(?:const|let|var)\s+(?:{name}\b|[\[{{][^=\n]*\b{name}\b[^=\n]*[\]}}]\s*=))")


def part_context(task: CodeTask, max_lines: int = 40) -> list[str]:
    """What a model rewriting a part must see of the rest of the file, as prompt lines: the
    types the part names (whole, when short), the signatures of the functions and constants it
    calls, and the lines elsewhere that use what the part declares, with the first line of each
    declaration those uses pass in. Empty for a task without a focus. A model shown only a
    signature invents the fields of types it cannot see and changes what callers pass."""
    if task.focus is None:
        return []
    a, b = task.focus
    starter = task.starter
    part = starter[a:b]
    rest = starter[:a] + starter[b:]
    outside = [c for c in split_source(task.file_name, rest, max_chunk_tokens=10**9).chunks
               if c.name and c.kind not in ("imports", "other")]
    inside = {c.name for c in split_source(task.file_name, part, max_chunk_tokens=10**9).chunks
              if c.name}
    used = set(_IDENT_RE.findall(part))
    # The types the part names, and the types those name (one level: `Filters` names `Region`).
    types = {c.name: c for c in outside if c.kind == "type"}
    for c in [types[n] for n in used & set(types)]:
        used |= set(_IDENT_RE.findall(c.text)) & set(types)
    lines: list[str] = []
    for c in outside:
        if c.name not in used or c.name in inside:
            continue
        text = c.text.strip()
        body = [ln for ln in text.splitlines() if not ln.strip().startswith("//")]
        if c.kind == "type" and len(body) <= 15:
            lines += body
        else:
            lines.append(body[0].rstrip(" {") + (" ..." if len(body) > 1 else ""))
    first_line = starter[:a].count("\n") + 1
    last_line = first_line + part.count("\n")
    uses: list[str] = []
    passed_in: list[str] = []
    for no, line in enumerate(starter.splitlines() if inside else [], 1):
        if first_line <= no <= last_line:
            continue
        names = set(_IDENT_RE.findall(line))
        if not names & inside or re.match(r"\s*(import|export\s*\{)", line):
            continue
        uses.append(f"line {no}: {line.strip()[:200]}")
        for name in sorted(names - inside - set(types)):
            decl = next((m for m in re.finditer(_DECL_LINE_RE.format(name=re.escape(name)),
                                                starter, re.M) if not a <= m.start() < b), None)
            if decl:
                start = decl.start() + (len(decl.group(0)) - len(decl.group(0).lstrip()))
                text = starter[start:starter.find("\n", start)].strip()
                if text not in passed_in:
                    passed_in.append(text[:200])
    out: list[str] = []
    if lines:
        out += ["The rest of the file declares (use these as they are):", *lines]
    if uses:
        out += ["Elsewhere in the file the part is used like this (keep these working):",
                *uses, *passed_in]
    return out[:max_lines]
