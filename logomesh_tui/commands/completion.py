"""Completion for the command pane and the shell: command names, then argument values.

:func:`complete` takes the text before the cursor and returns whole-line candidates, so a
caller only has to replace its input with one of them (readline with no word delimiters, or a
Textual ``Input`` suggester). It never raises: half-typed text is the normal case here.
"""

from __future__ import annotations

from pathlib import Path

from ..conversation.roles import SEED_ROLES
from .table import (
    ARBITRATION_POLICIES,
    COMMANDS,
    COMMANDS_BY_NAME,
    EXPORT_FORMATS,
    PROTOCOLS,
    CommandSpec,
    Param,
    Vocabulary,
)


def _values_for(param: Param, vocab: Vocabulary | None) -> list[str]:
    fixed = {"protocol": PROTOCOLS, "format": EXPORT_FORMATS, "policy": ARBITRATION_POLICIES,
             "command": tuple(COMMANDS_BY_NAME)}.get(param.kind)
    if fixed is not None:
        return list(fixed)
    if param.kind == "new-role":
        loaded = list(vocab.roles or []) if vocab is not None else []
        return [r for r in SEED_ROLES if r not in loaded] + loaded
    if vocab is None:
        return []
    if param.kind == "role" and vocab.roles is not None:
        return list(vocab.roles)
    if param.kind == "model" and vocab.models is not None:
        return list(vocab.models)
    if param.kind == "session" and vocab.sessions is not None:
        return list(vocab.sessions)
    return []


def _path_values(fragment: str, limit: int = 50) -> list[str]:
    """Folders and .ts/.tsx files that extend ``fragment`` (a path typed so far)."""
    folder, _, start = fragment.rpartition("/")
    base = Path(folder or ".")
    if not base.is_dir():
        return []
    out = []
    for entry in sorted(base.iterdir(), key=lambda e: e.name):
        name = entry.name
        if not name.startswith(start) or (name.startswith(".") and not start.startswith(".")):
            continue
        shown = f"{folder}/{name}" if folder else name
        if entry.is_dir():
            out.append(shown + "/")
        elif entry.suffix in (".ts", ".tsx"):
            out.append(shown)
        if len(out) >= limit:
            break
    return out


def _complete_name(line: str) -> list[str]:
    lead = line[:len(line) - len(line.lstrip())]
    typed = line.strip()
    out = []
    for spec in COMMANDS:
        if spec.name.startswith(typed):
            out.append(lead + spec.name + ("()" if not spec.params else "("))
    return out


def _scan_args(body: str) -> tuple[int, str | None, int, str | None, bool]:
    """Scan an unfinished argument list.

    Returns (positional index, keyword of the current argument, offset where the current
    fragment starts, the open quote char or None, whether the list is already closed).
    """
    index, keyword, quote = 0, None, None
    depth = 0
    arg_start = 0
    frag_start = 0
    i = 0
    while i < len(body):
        ch = body[i]
        if quote:
            if ch == "\\":
                i += 2
                continue
            if ch == quote:
                quote = None
        elif ch in "\"'":
            quote = ch
            frag_start = i + 1
        elif ch == "[":
            depth += 1
        elif ch == "]":
            depth = max(0, depth - 1)
        elif ch == ")" and depth == 0:
            return index, keyword, i, None, True
        elif ch == "," and depth == 0:
            index, keyword = (index + 1 if keyword is None else index), None
            arg_start = frag_start = i + 1
        elif ch == "=" and depth == 0:
            keyword = body[arg_start:i].strip()
            frag_start = i + 1
        i += 1
    if quote is None:
        frag_start = frag_start if keyword is not None else arg_start
        while frag_start < len(body) and body[frag_start] in " \t":
            frag_start += 1
    return index, keyword, frag_start, quote, False


def _param_for(spec: CommandSpec, index: int, keyword: str | None) -> Param | None:
    if keyword is not None:
        return next((p for p in spec.params if p.name == keyword), None)
    return spec.params[index] if index < len(spec.params) else None


def complete(line: str, vocab: Vocabulary | None = None) -> list[str]:
    """Whole-line completions of ``line`` (the text before the cursor), best first."""
    try:
        if "(" not in line:
            return _complete_name(line)
        head, body = line.split("(", 1)
        spec = COMMANDS_BY_NAME.get(head.strip())
        if spec is None:
            return []
        index, keyword, frag_start, quote, closed = _scan_args(body)
        if closed:
            return []
        prefix = line[:len(head) + 1 + frag_start]
        fragment = body[frag_start:]
        param = _param_for(spec, index, keyword)
        out: list[str] = []
        if param is not None:
            values = (_path_values(fragment) if param.kind == "ts-path"
                      else _values_for(param, vocab))
            for value in values:
                if value.startswith(fragment):
                    # A folder stays open (no closing quote) so completion can go on inside it.
                    close = "" if value.endswith("/") else (quote or '"')
                    out.append(prefix + value + close if quote else f'{prefix}"{value}{close}')
        if quote is None and keyword is None:
            used = set(spec.params[i].name for i in range(min(index, len(spec.params))))
            used |= {part.split("=", 1)[0].strip() for part in body.split(",")
                     if "=" in part}
            for p in spec.params:
                if not p.required and p.name not in used and p.name.startswith(fragment):
                    out.append(f"{prefix}{p.name}=")
            if not fragment and not out:
                out.append(prefix + ")")
        return out
    except Exception:  # noqa: BLE001 - completion must never break typing
        return []


def signature_hint(line: str) -> str | None:
    """The signature of the command being typed, for a hint line under the input."""
    head = line.split("(", 1)[0].strip()
    spec = COMMANDS_BY_NAME.get(head)
    return spec.signature() if spec else None
