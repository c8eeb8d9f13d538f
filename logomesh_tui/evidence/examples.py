"""Assertions from the examples a task states, written by a program rather than a model.

Task texts often give examples: ``Examples: `"1h30m"` → 5400``, ``1536 → `"1.5 KB"` ``,
``` `wrapText("abcdefg h", 3)` → `["abc", "def", "g h"]` ```, ```` `""` gives `""` ````. Each such
example is a fact the task states, so it may be asserted (the tester's rule), and a program reads
it more reliably than a small model does. This module finds them, conservatively:

- the input is a call of an exported function (``name(args)``), or literals passed to the one
  exported function the sentence (or the whole file) is about, which must then take no more
  required parameters than the example gives;
- the input follows the start of a line, a bullet, ``:``, ``,``, ``;``, ``(``, ``.`` or "e.g."
  (so ``ten thousand times `"0.01"` → 10000`` is not read as ``f("0.01") === 10000``);
- both sides are JavaScript literals (strings, numbers, booleans, null, arrays and objects of
  them) and the expected value's kind agrees with the return type the starter declares;
- async functions and functions of classes are left to the tester.

Each example becomes one probe (one assertion, so a candidate passing three of four examples
ranks above one passing two); it prints the value it got, so candidates are also grouped by it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass

from .types import CodeTask, Probe

_ARROW = r"\s*(→|->|=>|gives|returns)\s*"
_BACKTICK = r"`([^`\n]+)`"
_NUMBER = r"(-?\d+(?:\.\d+)?)(?!\w|\.\d)"
_EXAMPLE_RE = re.compile(rf"(?:{_BACKTICK}|{_NUMBER}){_ARROW}(?:{_BACKTICK}|{_NUMBER})")
_FUNC_RE = re.compile(
    r"^export\s+(async\s+)?function\s*\*?\s*(\w+)\s*(?:<([^>]*)>)?\s*\(([^)]*)\)\s*"
    r"(?::\s*([^{;]+))?", re.M)
_ARROW_FUNC_RE = re.compile(
    r"^export\s+const\s+(\w+)\s*(?::[^=]+)?=\s*(async\s+)?(?:<([^>]*)>)?\s*\(([^)]*)\)\s*"
    r"(?::\s*([^=]+?))?\s*=>", re.M)
#: React hooks run only inside a component's render: a bare call proves nothing.
_HOOK_RE = re.compile(r"^use[A-Z0-9]")
_CALL_RE = re.compile(r"^(\w+)\s*\((.*)\)$", re.S)
_NAME_RE = re.compile(r"`(\w+)\s*(?:\(|`)")
#: What may come right before an example's input on its line.
_LEAD_RE = re.compile(r"(?:^|[:,;(.]|^\s*[-*]|e\.g\.)\s*$", re.I)


@dataclass(frozen=True)
class Function:
    """An exported function of the starter, as far as a regular expression can tell."""

    name: str
    required: int
    params: int
    returns: str
    is_async: bool
    type_params: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Example:
    """``function(args)`` is stated to give ``expected``; ``text`` is the sentence's wording."""

    function: str
    args: str
    expected: str
    text: str


def exported_functions(source: str) -> dict[str, Function]:
    """The starter's exported functions by name (plain and arrow)."""
    out: dict[str, Function] = {}
    for m in _FUNC_RE.finditer(source):
        out[m.group(2)] = _function(m.group(2), m.group(4), m.group(5) or "", bool(m.group(1)),
                                    m.group(3) or "")
    for m in _ARROW_FUNC_RE.finditer(source):
        out[m.group(1)] = _function(m.group(1), m.group(4), m.group(5) or "", bool(m.group(2)),
                                    m.group(3) or "")
    return out


def _function(name: str, params: str, returns: str, is_async: bool,
              type_params: str = "") -> Function:
    parts = [p.strip() for p in _split_top(params) if p.strip()]
    required = sum(1 for p in parts if "?" not in p.split(":", 1)[0] and "=" not in p
                   and not p.startswith("..."))
    returns = returns.strip()
    names = frozenset(t.strip().split()[0] for t in _split_top(type_params) if t.strip())
    return Function(name=name, required=required, params=len(parts), returns=returns,
                    is_async=is_async or returns.startswith("Promise"), type_params=names)


def _split_top(text: str) -> list[str]:
    """``text`` split at commas outside brackets, braces, parentheses and strings."""
    parts, depth, quote, cur = [], 0, "", []
    for ch in text:
        if quote:
            cur.append(ch)
            if ch == quote:
                quote = ""
            continue
        if ch in "\"'`":
            quote = ch
        elif ch in "([{<":
            depth += 1
        elif ch in ")]}>":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append("".join(cur))
            cur = []
            continue
        cur.append(ch)
    parts.append("".join(cur))
    return parts


# -- JavaScript literals -----------------------------------------------------------------------
_TOKEN_RE = re.compile(r"""\s*(?:
    (?P<str>"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')
  | (?P<num>-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?)
  | (?P<word>[A-Za-z_$][\w$]*)
  | (?P<punct>[\[\]{}:,])
)""", re.X)
_WORDS = {"true", "false", "null", "undefined", "NaN", "Infinity"}


def literal_kind(text: str) -> str | None:
    """``string``, ``number``, ``boolean``, ``null``, ``array`` or ``object`` when ``text`` is a
    JavaScript literal made only of literals, else None."""
    tokens: list[tuple[str, str]] = []
    pos = 0
    text = text.strip()
    while pos < len(text):
        m = _TOKEN_RE.match(text, pos)
        if not m or m.end() == pos:
            return None
        kind = m.lastgroup or ""
        tokens.append((kind, m.group(kind)))
        pos = m.end()
    parser = _Literal(tokens)
    try:
        kind = parser.value()
    except ValueError:
        return None
    return kind if parser.i == len(tokens) else None


class _Literal:
    def __init__(self, tokens: list[tuple[str, str]]) -> None:
        self.tokens, self.i = tokens, 0

    def _next(self) -> tuple[str, str]:
        if self.i >= len(self.tokens):
            raise ValueError("end")
        self.i += 1
        return self.tokens[self.i - 1]

    def _peek(self) -> str:
        return self.tokens[self.i][1] if self.i < len(self.tokens) else ""

    def value(self) -> str:
        kind, tok = self._next()
        if kind == "str":
            return "string"
        if kind == "num":
            return "number"
        if kind == "word":
            if tok not in _WORDS:
                raise ValueError(tok)
            return {"true": "boolean", "false": "boolean", "null": "null",
                    "undefined": "null"}.get(tok, "number")
        if tok == "[":
            self._items("]", self.value)
            return "array"
        if tok == "{":
            self._items("}", self._entry)
            return "object"
        raise ValueError(tok)

    def _entry(self) -> str:
        key_kind, _ = self._next()
        if key_kind not in ("str", "word", "num") or self._next()[1] != ":":
            raise ValueError("object key")
        return self.value()

    def _items(self, close: str, item: Callable[[], str]) -> None:
        """Comma-separated ``item``s up to and including ``close`` (a trailing comma allowed)."""
        while self._peek() != close:
            item()
            if self._peek() == ",":
                self._next()
            elif self._peek() != close:
                raise ValueError(close)
        self._next()


_PRIMITIVE = {"string": {"string"}, "number": {"number"}, "boolean": {"boolean", "true", "false"},
              "null": {"null", "undefined", "void"}}


def _agrees(kind: str, returns: str, type_params: frozenset[str] = frozenset()) -> bool:
    """Whether a literal of ``kind`` can be a value of the declared return type: one member of
    its top-level union must fit (undeclared, ``any``, ``unknown`` or a type parameter: anything).
    """
    r = returns.strip()
    if not r:
        return True
    for part in (p.strip() for p in _split_top(r.replace("|", ","))):
        if part in ("any", "unknown") or part in type_params:
            return True
        if kind in _PRIMITIVE:
            if part in _PRIMITIVE[kind]:
                return True
            if kind == "string" and part[:1] in "\"'`":
                return True
            if kind == "number" and re.fullmatch(r"-?\d+(\.\d+)?", part):
                return True
        elif kind == "array":
            if _is_array_type(part):
                return True
        elif not (any(part in names for names in _PRIMITIVE.values()) or _is_array_type(part)
                  or part[:1] in "\"'`"):
            return True  # an object literal: a record, an interface, an object type
    return False


def _is_array_type(part: str) -> bool:
    return part.endswith("[]") or part.startswith(("Array<", "ReadonlyArray<", "["))


def stated_examples(instruction: str, source: str) -> list[Example]:
    """The examples in ``instruction`` that can be checked against ``source``'s exports."""
    functions = {n: f for n, f in exported_functions(source).items()
                 if not f.is_async and not _HOOK_RE.match(n)}
    if not functions:
        return []
    out: list[Example] = []
    seen: set[tuple[str, str]] = set()
    for para in re.split(r"\n\s*\n|\n(?=\s*[-*]\s)", instruction):
        line = " ".join(para.split())
        for m in _EXAMPLE_RE.finditer(line):
            lhs = m.group(1) or m.group(2)
            rhs = (m.group(4) or m.group(5)).strip()
            # A bare number only before an arrow: "3 returns `undefined`" in a sentence about
            # a sequence of renders is not an example.
            if not _LEAD_RE.search(line[:m.start()]) or (m.group(2) and m.group(3).isalpha()):
                continue
            call = _CALL_RE.match(lhs.strip())
            if call and call.group(1) in functions:
                fn, args = functions[call.group(1)], call.group(2).strip()
                arg_parts = [a for a in _split_top(args) if a.strip()] if args else []
                if any(literal_kind(a) is None for a in arg_parts):
                    continue
            else:
                if literal_kind(lhs) is None:
                    continue
                named = [n for n in _NAME_RE.findall(line[:m.start()]) if n in functions]
                if named:
                    fn = functions[named[-1]]
                elif len(functions) == 1:
                    fn = next(iter(functions.values()))
                else:
                    continue
                args, arg_parts = lhs.strip(), [lhs]
            kind = literal_kind(rhs)
            if (kind is None or not _agrees(kind, fn.returns, fn.type_params)
                    or len(arg_parts) < fn.required
                    or len(arg_parts) > max(fn.params, fn.required)):
                continue
            if (fn.name, args) in seen:
                continue
            seen.add((fn.name, args))
            out.append(Example(function=fn.name, args=args, expected=rhs, text=m.group(0)))
    return out


def example_probes(task: CodeTask) -> list[Probe]:
    """One asserting probe per stated example (``e1``, ``e2``, ...), authored by the verifier."""
    probes = []
    for i, ex in enumerate(stated_examples(task.instruction, task.starter), start=1):
        label = json.dumps(f"the task states {ex.text}")
        code = (f'import * as subject from "{task.module}";\n'
                f"const fn: any = (subject as any)[{json.dumps(ex.function)}];\n"
                f"const got: unknown = fn({ex.args});\n"
                f"const want: unknown = {ex.expected};\n"
                f"console.log({json.dumps(ex.function + '(' + ex.args + ') =')}, got);\n"
                f"assert(__sameValue(got, want), {label} + \", got \" + __show(got));\n")
        probes.append(Probe(id=f"e{i}", code=code, author="verifier", model_id=""))
    return probes
