"""Facts a task states about its functions, read by a program and asserted as probes.

A task text may state what a call of one of the starter's exported functions returns or throws.
Each such statement is a fact (the tester's rule: what the task states may be asserted), and a
program reads it more reliably than a small model does. Only statements in this grammar are
read; the full description, with examples, is docs/task-facts.md::

    fact     := call arrow value | call throws [error]
    call     := NAME "(" literal, ... ")"          NAME: an exported function of the starter
    arrow    := "->" | "=>" | "==>" | "→" | "===" | [should|must|will] (returns | gives
                | evaluates to)
    throws   := [should|must|will] ("throws" | "throw") [a | an]
    error    := an identifier ending in "Error", or "error" ("Error": any error will do)
    value    := a JavaScript literal: string, number, boolean, null, undefined, NaN,
                Infinity, and arrays and objects of them

- A fact is written on a line of its own, in a list item, in a sentence or in a code block;
  the call, the value, or the whole fact may be in backticks (`` `f(1)` -> `2` ``,
  `` `f(1) => 2` ``, ``f(1) returns 2``).
- In code, the arrow may follow a comment: ``f(1); // returns 2``, ``f(1) // => 2``,
  ``f(1) // throws RangeError``; inside a JSDoc ``@example`` block the arrow may be left out
  (``f(1) // 2``), the TypeScript convention.
- After the value only an end comes: the end of the text, ``.``, ``,``, ``;``, ``:``, ``)``, a
  parenthesis, a comment, "and" or a dash. ``f(1) returns 2 or 3`` and ``f(1) returns 2 when
  ...`` are not facts.
- Text that describes old or wrong behaviour is never read as a required result: a sentence or
  list item holding one of :data:`OLD_WORDS` ("before", "currently", "old", "previously", "used
  to", "wrong", "bug", "incorrectly", "instead of", ...), the list items and code blocks after
  such an introduction ending in ``:``, a section under such a heading, code after such a
  comment line, and a JSDoc comment holding such a word.
- The call's arguments and the value must be literals, the arguments' count must fit the
  function's parameters and the value's kind its declared return type; async functions, hooks
  and functions of classes are left to the tester.

Precision comes first: a fact that could be wrong is not asserted. Each fact becomes one probe
(one assertion, so a candidate passing three of four facts ranks above one passing two); it
prints the value it got, so candidates are also grouped by it. When the task says the inputs
must not change (:func:`states_no_mutation`), each fact's array and object arguments are also
compared with a copy taken before the call.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from ..source.lexer import closing_bracket, split_top
from .types import CodeTask, Probe

_FUNC_RE = re.compile(
    r"^export\s+(async\s+)?function\s*\*?\s*(\w+)\s*(?:<([^>]*)>)?\s*\(([^)]*)\)\s*"
    r"(?::\s*([^{;]+))?", re.M)
_ARROW_FUNC_RE = re.compile(
    r"^export\s+const\s+(\w+)\s*(?::[^=]+)?=\s*(async\s+)?(?:<([^>]*)>)?\s*\(([^)]*)\)\s*"
    r"(?::\s*([^=]+?))?\s*=>", re.M)
#: React hooks run only inside a component's render: a bare call proves nothing.
_HOOK_RE = re.compile(r"^use[A-Z0-9]")


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
    parts = [p.strip() for p in split_top(params, angles=True) if p.strip()]
    required = sum(1 for p in parts if "?" not in p.split(":", 1)[0] and "=" not in p
                   and not p.startswith("..."))
    returns = returns.strip()
    names = frozenset(t.strip().split()[0] for t in split_top(type_params, angles=True)
                      if t.strip())
    types = tuple(p.split(":", 1)[1].split("=", 1)[0].strip() if ":" in p.split("=", 1)[0]
                  else "" for p in parts)
    return Function(name=name, required=required, params=len(parts), returns=returns,
                    is_async=is_async or returns.startswith("Promise"), type_params=names,
                    param_types=types)


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
    for part in (p.strip() for p in split_top(r.replace("|", ","), angles=True)):
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


def _callable(source: str) -> dict[str, Function]:
    """The exported functions a probe can call outside a component: not async, not hooks."""
    return {n: f for n, f in exported_functions(source).items()
            if not f.is_async and not _HOOK_RE.match(n)}


@dataclass(frozen=True)
class Throw:
    """``function(args)`` is stated to throw an ``error`` (``Error``: any error will do)."""

    function: str
    args: str
    error: str
    text: str


# -- where facts are: units of text, and whether they describe old behaviour -------------------
#: Words that mark a sentence, list item, heading or comment as describing old or wrong
#: behaviour; whatever it states is not a required result.
#: ("current", "previous" and "existing" are left out: "the current line", "the previous
#: item" describe an algorithm, not the code before a fix.)
OLD_WORDS = ("before", "currently", "old", "previously", "used to", "wrong", "wrongly", "bug",
             "bugs", "buggy", "incorrect", "incorrectly", "instead of", "today", "broken",
             "legacy", "mistakenly", "erroneously", "regression", "formerly", "originally",
             "as written", "at the moment", "right now")
_OLD_RE = re.compile(r"\b(?:" + "|".join(w.replace(" ", r"\s+") for w in OLD_WORDS) + r")\b",
                     re.I)
_FENCE_RE = re.compile(r"^\s*(```|~~~)")
_ITEM_RE = re.compile(r"^(\s*)(?:[-*+]|\d+[.)])\s+")
_HEADING_RE = re.compile(r"^\s*#{1,6}\s")
_COMMENT_ONLY_RE = re.compile(r"^\s*(?://|#|/\*+|\*(?!/))")
_TAG_RE = re.compile(r"^\s*@(\w+)")


def describes_old(text: str) -> bool:
    """Whether ``text`` holds a word of :data:`OLD_WORDS`."""
    return bool(_OLD_RE.search(text))


@dataclass(frozen=True)
class _Unit:
    """A piece of text facts are read from: a sentence, a list item or a line of code."""

    text: str
    old: bool  # describes old or wrong behaviour: read nothing from it
    example: bool = False  # a line of a JSDoc @example block


def _units(instruction: str) -> Iterator[_Unit]:
    """``instruction`` cut into units, each marked old when it, or what introduces it, holds a
    word of :data:`OLD_WORDS`."""
    lines = instruction.splitlines()
    section_old = False  # under a heading holding an old-behaviour word
    intro_old = False  # after a paragraph or item ending in ":" that holds one
    intro_indent = -1  # for an item: the items indented deeper are its own
    prose: list[str] = []
    prose_item_indent: int | None = None
    i = 0

    def flush() -> Iterator[_Unit]:
        nonlocal intro_old, intro_indent
        if not prose:
            return
        text = re.sub(r"\s+", " ", " ".join(p.strip() for p in prose)).strip()
        prose.clear()
        if not text:
            return
        inherited = section_old or (intro_old and (prose_item_indent is not None
                                                   and prose_item_indent > intro_indent))
        if prose_item_indent is None:
            # A paragraph: each sentence on its own; one ending in ":" introduces what follows.
            sentences = _sentences(text)
            for s in sentences:
                yield _Unit(s, section_old or describes_old(s))
            intro_old = text.rstrip().endswith(":") and describes_old(sentences[-1])
            intro_indent = -1
        else:
            old = inherited or describes_old(text)
            yield _Unit(text, old)
            if text.rstrip().endswith(":") and old and not inherited:
                intro_old, intro_indent = True, prose_item_indent
            elif not inherited and prose_item_indent <= intro_indent:
                intro_old = False

    while i < len(lines):
        line = lines[i]
        if _FENCE_RE.match(line):
            yield from flush()
            fence = _FENCE_RE.match(line).group(1)  # type: ignore[union-attr]
            block = []
            i += 1
            while i < len(lines) and not lines[i].strip().startswith(fence):
                block.append(lines[i])
                i += 1
            yield from _code_units(block, section_old or intro_old)
            i += 1
            continue
        if line.lstrip().startswith("/**"):
            yield from flush()
            block = []
            while i < len(lines):
                block.append(lines[i])
                if "*/" in lines[i]:
                    break
                i += 1
            yield from _code_units(block, section_old or intro_old)
            i += 1
            continue
        if not line.strip():
            yield from flush()
            prose_item_indent = None
            i += 1
            continue
        if _HEADING_RE.match(line):
            yield from flush()
            section_old, intro_old, intro_indent = describes_old(line), False, -1
            prose_item_indent = None
            i += 1
            continue
        item = _ITEM_RE.match(line)
        if item:
            yield from flush()
            prose_item_indent = len(item.group(1).expandtabs())
            prose.append(line[item.end():])
        else:
            prose.append(line)
        i += 1
    yield from flush()


def _code_units(block: list[str], old: bool) -> Iterator[_Unit]:
    """The lines of a code block or a JSDoc comment. A JSDoc comment holding an old-behaviour
    word is old as a whole; in code, a comment line holding one makes the lines after it old up
    to the next comment line."""
    text = "\n".join(block)
    jsdoc = text.lstrip().startswith("/**")
    if jsdoc and describes_old(text):
        old = True
    in_example = False
    comment_old = False
    for raw in block:
        line = raw.strip()
        if jsdoc or in_example or line.startswith("*"):
            line = re.sub(r"^/\*\*+|\*/\s*$", "", line).strip()
            line = re.sub(r"^\*(?!/)\s?", "", line).strip()
        tag = _TAG_RE.match(line)
        if tag:
            in_example = tag.group(1) == "example"
            line = line[tag.end():].strip() if in_example else ""
        if not line:
            continue
        if _COMMENT_ONLY_RE.match(line) and not _CALL_START_RE.search(line.lstrip("/#* ")):
            comment_old = describes_old(line)
            continue
        yield _Unit(line, old or comment_old or describes_old(line), example=in_example)


#: Where a sentence ends: ". ", "! " or "? " outside backticks, not after "e.g." or "i.e.".
_SENTENCE_END_RE = re.compile(r"(?<=[.!?])\s+")
_SPAN_RE = re.compile(r"`([^`\n]+)`")


def _sentences(text: str) -> list[str]:
    out, start = [], 0
    spans = [m.span() for m in _SPAN_RE.finditer(text)]
    for m in _SENTENCE_END_RE.finditer(text):
        if (not any(a < m.start() < b for a, b in spans)
                and not text[:m.start()].lower().endswith(("e.g.", "i.e.", "vs."))):
            out.append(text[start:m.start()])
            start = m.end()
    out.append(text[start:])
    return [s for s in out if s.strip()]


def _clauses(line: str) -> list[str]:
    """``line`` cut at "; " and sentence ends, never inside a backtick span."""
    out = []
    for s in _sentences(line):
        spans = [m.span() for m in _SPAN_RE.finditer(s)]
        start = 0
        for m in re.finditer(r";\s+", s):
            if not any(a < m.start() < b for a, b in spans):
                out.append(s[start:m.start()])
                start = m.end()
        out.append(s[start:])
    return out


# -- the grammar --------------------------------------------------------------------------------
_CALL_START_RE = re.compile(r"(?<![\w$.])(?<!new\s)([A-Za-z_$][\w$]*)\s*\(")
_MODAL = r"(?:(?:should|must|will)\s+)?"
_ARROW_RE = re.compile(
    r"(?:->|==>|=>|→|===|" + _MODAL + r"(?:returns?|gives?|evaluates\s+to)\b)\s*", re.I)
_THROWS_RE = re.compile(
    _MODAL + r"throws?\b(?:\s+(?:an?\s+)?(?:`?(?P<err>(?-i:(?:[A-Za-z_$][\w$]*)?Error))\b`?|"
    r"(?P<plain>error)\b))?", re.I)
#: What may come after a value (or an error's name): the end, punctuation, a comment, "and".
_TAIL_RE = re.compile(r"\s*(?:$|[.,;:)](?:\s|$)|[.]$|\(|//|/\*|—|–|and\b)", re.I)


@dataclass(frozen=True)
class _Fact:
    function: Function
    args: str
    n_args: int
    expected: str | None  # the value, or None for a throw
    error: str  # for a throw: the error's class ("Error": any)


def _value_at(text: str, pos: int) -> tuple[str, int] | None:
    """The literal starting at ``pos`` (in backticks or bare) and the index after it."""
    if text.startswith("`", pos):
        end = text.find("`", pos + 1)
        if end < 0:
            return None
        value = text[pos + 1:end].strip()
        return (value, end + 1) if literal_kind(value) is not None else None
    ch = text[pos:pos + 1]
    if ch in ("[", "{"):
        end = closing_bracket(text, pos)
    elif ch in ("\"", "'"):
        m = re.compile(r"""("(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')""").match(text, pos)
        end = m.end() if m else -1
    else:
        m = re.compile(r"-?(?:\d+(?:\.\d+)?(?:[eE][-+]?\d+)?|Infinity)(?![\w.]\w)|"
                       r"[A-Za-z_$][\w$]*").match(text, pos)
        end = m.end() if m else -1
    if end < 0:
        return None
    value = text[pos:end]
    return (value, end) if literal_kind(value) is not None else None


def _facts(unit: _Unit, functions: dict[str, Function]) -> Iterator[_Fact]:
    """The facts written in ``unit`` in the grammar of the module docstring."""
    text = unit.text
    for m in _CALL_START_RE.finditer(text):
        fn = functions.get(m.group(1))
        if fn is None:
            continue
        end = closing_bracket(text, m.end() - 1)
        if end < 0:
            continue
        args = text[m.end():end - 1].strip()
        parts = [a for a in split_top(args) if a.strip()] if args else []
        if any(literal_kind(a) is None for a in parts):
            continue
        pos = end
        after = re.compile(r"\s*;?\s*`?\s*").match(text, pos)
        pos = after.end() if after else pos
        comment = re.compile(r"//\s*").match(text, pos)
        if comment:
            pos = comment.end()
        throw = _THROWS_RE.match(text, pos)
        if throw:
            if _TAIL_RE.match(text, throw.end()):
                error = throw.group("err") or "Error"
                yield _Fact(fn, args, len(parts), None, error)
            continue
        arrow = _ARROW_RE.match(text, pos)
        if arrow:
            pos = arrow.end()
            throw = _THROWS_RE.match(text, pos)
            if throw:
                if _TAIL_RE.match(text, throw.end()):
                    yield _Fact(fn, args, len(parts), None, throw.group("err") or "Error")
                continue
        elif not (comment and unit.example):
            continue
        value = _value_at(text, pos)
        if value is None:
            continue
        expected, pos = value
        if text.startswith("`", pos):
            pos += 1
        if not _TAIL_RE.match(text, pos):
            continue
        if re.fullmatch(r"-?\d+\.", expected):
            expected = expected[:-1]
        yield _Fact(fn, args, len(parts), expected, "")


def _read(instruction: str, source: str) -> list[_Fact]:
    functions = _callable(source)
    if not functions:
        return []
    return [f for unit in _units(instruction) if not unit.old for f in _facts(unit, functions)]


def stated_examples(instruction: str, source: str) -> list[Example]:
    """The values ``instruction`` states calls of ``source``'s exports return, once per call."""
    out: list[Example] = []
    seen: set[tuple[str, str]] = set()
    for f in _read(instruction, source):
        if f.expected is None:
            continue
        fn = f.function
        kind = literal_kind(f.expected)
        if (kind is None or not _agrees(kind, fn.returns, fn.type_params)
                or not _fits(fn, f.n_args) or (fn.name, f.args) in seen):
            continue
        seen.add((fn.name, f.args))
        out.append(Example(function=fn.name, args=f.args, expected=f.expected,
                           text=f"{fn.name}({f.args}) → {f.expected}"))
    return out


def _fits(fn: Function, n_args: int) -> bool:
    return fn.required <= n_args <= max(fn.params, fn.required)


MAX_THROWS = 12


def stated_throws(instruction: str, source: str) -> list[Throw]:
    """The calls ``instruction`` states throw (``f("")` throws a `RangeError```), once per
    call; at most :data:`MAX_THROWS`."""
    out: list[Throw] = []
    seen: set[tuple[str, str]] = set()
    for f in _read(instruction, source):
        fn = f.function
        if (f.expected is not None or not _fits(fn, f.n_args) or (fn.name, f.args) in seen
                or len(out) >= MAX_THROWS):
            continue
        seen.add((fn.name, f.args))
        out.append(Throw(function=fn.name, args=f.args, error=f.error,
                         text=f"{fn.name}({f.args}) throws {_article(f.error)} {f.error}"))
    return out


def _article(word: str) -> str:
    return "an" if word[:1] in "AEIOU" else "a"


_NO_MUTATION_RE = re.compile(
    r"\b(?:do(?:es)?\s+not|don't|never|must\s+not|is\s+not|are\s+not|without)\s+"
    r"(?:\w+\s+){0,2}?(?:chang|modif|mutat|reorder|sort)", re.I)
_INPUT_WORD_RE = re.compile(r"\b(?:input|argument|caller|array|list|object|state|items|"
                            r"tuples?|parameters?)\b|\bmutation\b|`\w+`", re.I)


def states_no_mutation(instruction: str) -> bool:
    """Whether ``instruction`` says the inputs must not change ("Do not change the caller's
    array", "never mutates its input", "`obj` is not modified", "without mutation"); text
    describing old behaviour does not count."""
    for unit in _units(instruction):
        if unit.old:
            continue
        for clause in _clauses(unit.text):
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
        parts = [a.strip() for a in split_top(ex.args) if a.strip()]
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
