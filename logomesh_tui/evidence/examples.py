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
- async functions and functions of classes are left to the tester;
- raw text after "the line" / "the string" (``The line `a,b,,c` gives [...]``) is one string
  argument, for a function of one string parameter; an empty input named in words ("an empty
  line gives `[""]`", "An empty list gives 0") is ``""``, ``[]`` or ``{}``.

Each example becomes one probe (one assertion, so a candidate passing three of four examples
ranks above one passing two); it prints the value it got, so candidates are also grouped by it.

Two more kinds of stated fact become probes the same way: inputs the task says throw
(:func:`stated_throws`: `` `NaN`, `Infinity` and `-Infinity` throw a `RangeError` ``, "An empty
array throws a `RangeError`"), and, when the task says the inputs must not change
(:func:`states_no_mutation`), each example's array and object arguments compared with a copy
taken before the call.
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
#: "The line `a,b,,c` gives ...": an input shown as raw text (not a JavaScript literal) after a
#: noun that says it is one string.
_RAW_LEAD_RE = re.compile(r"\b(?:the|a|an)\s+(?:line|string|text|input)\s*$", re.I)
#: "an empty line gives `[""]`": the input named in words.
_EMPTY_EXAMPLE_RE = re.compile(
    r"(?:^|[:,;(.]\s|^\s*[-*]\s)\s*(?:an?|the)\s+empty\s+(string|line|text|array|list|object)"
    rf"{_ARROW}(?:`([^`\n]+)`|{_NUMBER})", re.I)
_EMPTY_INPUT = {"string": '""', "line": '""', "text": '""', "array": "[]", "list": "[]",
                "object": "{}"}


@dataclass(frozen=True)
class Function:
    """An exported function of the starter, as far as a regular expression can tell."""

    name: str
    required: int
    params: int
    returns: str
    is_async: bool
    type_params: frozenset[str] = frozenset()
    param_types: tuple[str, ...] = ()


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
    types = tuple(p.split(":", 1)[1].split("=", 1)[0].strip() if ":" in p.split("=", 1)[0]
                  else "" for p in parts)
    return Function(name=name, required=required, params=len(parts), returns=returns,
                    is_async=is_async or returns.startswith("Promise"), type_params=names,
                    param_types=types)


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
  | (?P<num>-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?|-Infinity)
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


def _paragraphs(instruction: str) -> list[str]:
    """The paragraphs and bullets of ``instruction``, each on one line: line breaks and their
    indents become one space; the spaces inside a literal (`` `"   "` ``) stay as they are."""
    return [re.sub(r"[ \t]*\n\s*", " ", para.strip())
            for para in re.split(r"\n\s*\n|\n(?=\s*[-*]\s)", instruction)]


def _callable(source: str) -> dict[str, Function]:
    """The exported functions a probe can call outside a component: not async, not hooks."""
    return {n: f for n, f in exported_functions(source).items()
            if not f.is_async and not _HOOK_RE.match(n)}


def stated_examples(instruction: str, source: str) -> list[Example]:
    """The examples in ``instruction`` that can be checked against ``source``'s exports."""
    functions = _callable(source)
    if not functions:
        return []
    out: list[Example] = []
    seen: set[tuple[str, str]] = set()
    for line in _paragraphs(instruction):
        for m in _EXAMPLE_RE.finditer(line):
            lhs = m.group(1) or m.group(2)
            rhs = (m.group(4) or m.group(5)).strip()
            # Raw text after "the line" / "the string" is one string argument, quoted here.
            raw = (m.group(1) is not None and literal_kind(lhs) is None
                   and bool(_RAW_LEAD_RE.search(line[:m.start()])))
            # A bare number only before an arrow: "3 returns `undefined`" in a sentence about
            # a sequence of renders is not an example.
            if not (raw or _LEAD_RE.search(line[:m.start()])) or (
                    m.group(2) and m.group(3).isalpha()):
                continue
            call = None if raw else _CALL_RE.match(lhs.strip())
            if raw:
                fn_or_none = _subject(line[:m.start()], functions)
                if fn_or_none is None or not _takes(fn_or_none, '""'):
                    continue
                fn, args = fn_or_none, json.dumps(lhs)
                arg_parts = [args]
            elif call and call.group(1) in functions:
                fn, args = functions[call.group(1)], call.group(2).strip()
                arg_parts = [a for a in _split_top(args) if a.strip()] if args else []
                if any(literal_kind(a) is None for a in arg_parts):
                    continue
            else:
                subject = _subject(line[:m.start()], functions)
                if literal_kind(lhs) is None or subject is None:
                    continue
                fn, args, arg_parts = subject, lhs.strip(), [lhs]
            _add(out, seen, fn, args, len(arg_parts), rhs, m.group(0))
        for m in _EMPTY_EXAMPLE_RE.finditer(line):
            fn_or_none = _subject(line[:m.start()], functions)
            literal = _EMPTY_INPUT[m.group(1).lower()]
            if fn_or_none is not None and _takes(fn_or_none, literal):
                _add(out, seen, fn_or_none, literal, 1, (m.group(3) or m.group(4)).strip(),
                     m.group(0).lstrip(":,;(.-* \t"))
    return out


def _subject(before: str, functions: dict[str, Function]) -> Function | None:
    """The function an example's sentence is about: the last one named before it, else the
    file's only one."""
    named = [n for n in _NAME_RE.findall(before) if n in functions]
    if named:
        return functions[named[-1]]
    return next(iter(functions.values())) if len(functions) == 1 else None


def _add(out: list[Example], seen: set[tuple[str, str]], fn: Function, args: str, n_args: int,
         expected: str, text: str) -> None:
    """Append the example when its expected value fits ``fn``'s return type and the argument
    count fits its parameters, once per (function, arguments)."""
    kind = literal_kind(expected)
    if (kind is None or not _agrees(kind, fn.returns, fn.type_params) or n_args < fn.required
            or n_args > max(fn.params, fn.required) or (fn.name, args) in seen):
        return
    seen.add((fn.name, args))
    out.append(Example(function=fn.name, args=args, expected=expected, text=text))


@dataclass(frozen=True)
class Throw:
    """``function(args)`` is stated to throw an ``error`` (``Error``: any error will do)."""

    function: str
    args: str
    error: str
    text: str


_THROW_RE = re.compile(r"\b[Tt]hrows?\s+(?:an?\s+)?`(\w*Error)`")
_NEGATED_RE = re.compile(r"\b(?:not|never|no|n't|without)\b[\w\s]{0,20}$", re.I)
_SPAN_RE = re.compile(r"`([^`\n]+)`")
#: Where a clause ends: ". " or "; " outside backticks (literals like `"1.5h"` hold dots).
_CLAUSE_END_RE = re.compile(r"(?<=[.;])\s+")
MAX_THROWS = 12
#: "An empty array throws a `RangeError`": the input named in words.
_EMPTY_RE = re.compile(r"(?:^|[-*:,(]|\b(?:an?|the|with|for|on|given)\s)\s*empty\s+"
                       r"(array|list|string|object)\s*$", re.I)
_EMPTY = {"array": "[]", "list": "[]", "string": '""', "object": "{}"}


def _clauses(line: str) -> list[str]:
    """``line`` cut into clauses at ". " and "; ", never inside a backtick span."""
    out, start = [], 0
    spans = [m.span() for m in _SPAN_RE.finditer(line)]
    for m in _CLAUSE_END_RE.finditer(line):
        if (not any(a < m.start() < b for a, b in spans)
                and not line[:m.start()].lower().endswith(("e.g.", "i.e."))):
            out.append(line[start:m.start()])
            start = m.end()
    out.append(line[start:])
    return out


def stated_throws(instruction: str, source: str) -> list[Throw]:
    """The inputs ``instruction`` says make a function throw, where a program can tell which.

    A clause such as ``NaN`, `Infinity` and `-Infinity` throw a `RangeError``` or ``Anything
    else throws an `Error`: `""`, `"1.5h"` `` is read when every other backtick span in it is a
    literal input (or a call of an exported function with literal arguments): a span naming a
    parameter (``If `size` is ... throw``) or an expression (`` `start > end` ``) leaves the
    clause unread. Bare literals go to the function the paragraph names (or the file's only
    one), which must take exactly one required parameter whose declared type the literal fits.
    """
    functions = _callable(source)
    if not functions:
        return []
    out: list[Throw] = []
    seen: set[tuple[str, str]] = set()
    for line in _paragraphs(instruction):
        subject = _subject(line, functions)
        for clause in _clauses(line):
            m = _THROW_RE.search(clause)
            if not m or _NEGATED_RE.search(clause[:m.start()]):
                continue
            for fn, args in _throwing_inputs(clause, m, functions, subject):
                if (fn.name, args) not in seen and len(out) < MAX_THROWS:
                    seen.add((fn.name, args))
                    out.append(Throw(function=fn.name, args=args, error=m.group(1),
                                     text=f"{fn.name}({args}) throws "
                                          f"{_article(m.group(1))} {m.group(1)}"))
    return out


def _throwing_inputs(clause: str, throw: re.Match[str], functions: dict[str, Function],
                     subject: Function | None) -> list[tuple[Function, str]]:
    """The (function, arguments) a clause says throw; empty when any span in it is not one."""
    spans = [s for s in _SPAN_RE.finditer(clause) if s.start() != throw.start(1) - 1]
    if not spans:
        empty = _EMPTY_RE.search(clause[:throw.start()])
        literal = _EMPTY[empty.group(1).lower()] if empty else ""
        return [(subject, literal)] if subject and literal and _takes(subject, literal) else []
    if not _one_list(clause, spans, throw):
        return []
    inputs: list[tuple[Function, str]] = []
    for span in spans:
        text = span.group(1).strip()
        call = _CALL_RE.match(text)
        if call and call.group(1) in functions:
            fn, args = functions[call.group(1)], call.group(2).strip()
            parts = [a for a in _split_top(args) if a.strip()] if args else []
            if (any(literal_kind(a) is None for a in parts) or len(parts) < fn.required
                    or len(parts) > max(fn.params, fn.required)):
                return []
            inputs.append((fn, args))
        elif subject is not None and _takes(subject, text):
            inputs.append((subject, text))
        else:
            return []
    return inputs


def _takes(fn: Function, literal: str) -> bool:
    """Whether ``literal`` alone can be ``fn``'s arguments: one required parameter, whose
    declared type a value of the literal's kind fits."""
    kind = literal_kind(literal)
    return (kind is not None and fn.required == 1
            and _agrees(kind, fn.param_types[0] if fn.param_types else "", fn.type_params))


_LIST_GAP_RE = re.compile(r"^\s*(?:\([^()`]*\))?\s*(?:,|,?\s*(?:and|or)|/)?\s*$")
_BEFORE_THROW_RE = re.compile(r"^[\s)]*(?:(?:all|each|both|also|must|should|will|always)\s+)*$",
                              re.I)
_AFTER_THROW_RE = re.compile(r"^[^`]*?(?::|e\.g\.,?|such as|for example,?|like)\s*$", re.I)


def _one_list(clause: str, spans: list[re.Match[str]], throw: re.Match[str]) -> bool:
    """Whether ``spans`` form one list (``a`, `b` and `c``) that is the subject of ``throw``
    (right before it) or its examples (after the error's name and a ``:``, "e.g.", "such as"),
    so that "`"1h"` is fine but `"x"` throws" is not read as both throwing."""
    for a, b in zip(spans, spans[1:], strict=False):
        if not _LIST_GAP_RE.match(clause[a.end():b.start()]):
            return False
    if spans[-1].end() <= throw.start():
        return bool(_BEFORE_THROW_RE.match(clause[spans[-1].end():throw.start()]))
    if spans[0].start() >= throw.end():
        return bool(_AFTER_THROW_RE.match(clause[throw.end():spans[0].start()].rstrip()
                                          .rstrip("(")))
    return False


def _article(word: str) -> str:
    return "an" if word[:1] in "AEIOU" else "a"


_NO_MUTATION_RE = re.compile(
    r"\b(?:do(?:es)?\s+not|don't|never|must\s+not|is\s+not|are\s+not|without)\s+"
    r"(?:\w+\s+){0,2}?(?:chang|modif|mutat|reorder|sort)", re.I)
_INPUT_WORD_RE = re.compile(r"\b(?:input|argument|caller|array|list|object|state|items|"
                            r"tuples?|parameters?)\b|\bmutation\b|`\w+`", re.I)


def states_no_mutation(instruction: str) -> bool:
    """Whether ``instruction`` says the inputs must not change ("Do not change the caller's
    array", "never mutates its input", "`obj` is not modified", "without mutation")."""
    for line in _paragraphs(instruction):
        for clause in _clauses(line):
            m = _NO_MUTATION_RE.search(clause)
            if m and (_INPUT_WORD_RE.search(clause) or "mutat" in m.group(0).lower()):
                # "whose output must not change" is about results, not inputs.
                if not re.search(r"\b(?:output|result|return(?:ed|s)?\s+value)\b[^.]{0,30}$",
                                 clause[:m.start()], re.I):
                    return True
    return False


def example_probes(task: CodeTask) -> list[Probe]:
    """One asserting probe per stated example (``e1``, ``e2``, ...) and per input stated to
    throw (``t1``, ...), authored by the verifier. When the task says inputs must not change,
    each example also asserts that its array and object arguments are as they were."""
    probes = []
    keep_inputs = states_no_mutation(task.instruction)
    for i, ex in enumerate(stated_examples(task.instruction, task.starter), start=1):
        label = json.dumps(f"the task states {ex.text}")
        call = f"{ex.function}({ex.args})"
        parts = [a.strip() for a in _split_top(ex.args) if a.strip()]
        check_args = keep_inputs and any(literal_kind(a) in ("array", "object") for a in parts)
        lines = [f'import * as subject from "{task.module}";',
                 f"const fn: any = (subject as any)[{json.dumps(ex.function)}];"]
        if check_args:
            lines += [f"const args: unknown[] = [{ex.args}];",
                      "const before: unknown = __clone(args);",
                      "const got: unknown = fn(...args);"]
        else:
            lines.append(f"const got: unknown = fn({ex.args});")
        lines += [f"const want: unknown = {ex.expected};",
                  f"console.log({json.dumps(call + ' =')}, got);"]
        if check_args:
            lines += ["const kept = __sameValue(args, before);",
                      "const now = args.length === 1 ? __show(args[0]) : __show(args);",
                      f"if (!kept) console.log({json.dumps('arguments after ' + call + ':')}, "
                      "now);"]
        lines.append(f"assert(__sameValue(got, want), {label} + \", got \" + __show(got));")
        if check_args:
            lines.append(
                "assert(kept, " + json.dumps(f"the task says the inputs must not change, but "
                                             f"{call} changed them to ") + " + now);")
        probes.append(Probe(id=f"e{i}", code="\n".join(lines) + "\n", author="verifier",
                            model_id=""))
    for i, th in enumerate(stated_throws(task.instruction, task.starter), start=1):
        call = f"{th.function}({th.args})"
        label = json.dumps(f"the task states {th.text}")
        code = (f'import * as subject from "{task.module}";\n'
                f"const fn: any = (subject as any)[{json.dumps(th.function)}];\n"
                "let got: unknown;\nlet error: unknown;\nlet threw = false;\n"
                f"try {{\n  got = fn({th.args});\n}} catch (e) {{\n  threw = true;\n  error = e;\n}}\n"
                f"const seen = threw ? \"throws \" + __errorName(error) : \"returns \" + __show(got);\n"
                f"console.log({json.dumps(call)}, seen);\n"
                f"assert(threw && __isError(error, {json.dumps(th.error)}), {label} + \", it \" + seen);\n")
        probes.append(Probe(id=f"t{i}", code=code, author="verifier", model_id=""))
    return probes
