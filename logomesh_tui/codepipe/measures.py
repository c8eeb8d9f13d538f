"""Static measures of a React/TypeScript file, before and after a refactor.

Run it yourself: ``python -m logomesh_tui.codepipe.measures FILE [FILE...] [--json]``.

Method (honest version): these come from the project's own tokenizer (``lexer.py``) plus rules
over tokens, not from a type-aware parser or ESLint. They are heuristics with known blind spots,
listed per measure in ``examples/README.md``: they count patterns, they do not prove behaviour.

- ``any_count``: the identifier ``any`` outside strings and comments, not as a property name.
- ``effects_without_deps``: useEffect/useLayoutEffect calls with no dependency array (run after
  every render).
- ``hooks_missing_deps``: useEffect/useLayoutEffect/useMemo/useCallback whose callback reads a
  name declared in the component (props, state, locals; not setters or refs) that the dependency
  array does not list; ``missing_deps`` lists them.
- ``hooks_unstable_deps``: dependency arrays naming a local created anew each render (object,
  array or function literal, ``new``) that is not wrapped in useMemo/useCallback.
- ``effects_setting_state``: effects that call a state setter with no async work in them — the
  usual sign of state that should be derived during render.
- ``effects_without_cleanup``: effects that start an interval, timeout or listener and return
  nothing.
- ``inline_function_props`` / ``inline_object_props``: JSX attributes whose value is an arrow
  or function expression / an object or array literal; ``..._to_components`` counts those given
  to capitalized (React component) tags, where they defeat memoization.
- ``render_scope_array_work``: ``.filter/.sort/.reduce/.find`` calls and calls to
  ``compute*/calculate*/aggregate*`` functions in a component's render path (outside hook
  callbacks and handlers), i.e. redone on every render.
- ``props_forwarded``: JSX attributes that pass a prop through unchanged (``x={props.x}`` or
  ``x={x}`` for a destructured prop) — prop drilling.
- ``components``, ``max_component_lines``, ``lines``, ``non_null_assertions``, ``ts_ignores``.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..source.lexer import Token, match_bracket, tokenize
from ..source.splitter import split_source

HOOKS_WITH_DEPS = ("useEffect", "useLayoutEffect", "useMemo", "useCallback")
EFFECTS = ("useEffect", "useLayoutEffect")
STABLE_HOOKS = ("useRef",)
_EXPENSIVE_CALL = re.compile(r"^(compute|calculate|aggregate|summari[sz]e|derive)", re.I)
_ARRAY_WORK = {"filter", "sort", "reduce", "find", "findIndex"}
_ASYNC_MARKERS = {"fetch", "then", "await", "setTimeout", "setInterval", "addEventListener",
                  "subscribe", "async"}
_SUBSCRIBE = {"setInterval", "setTimeout", "addEventListener", "subscribe"}


@dataclass
class Measures:
    file: str
    lines: int = 0
    components: int = 0
    max_component_lines: int = 0
    component_lines: dict[str, int] = field(default_factory=dict)
    any_count: int = 0
    effects: int = 0
    effects_without_deps: int = 0
    hooks_missing_deps: int = 0
    missing_deps: list[str] = field(default_factory=list)
    hooks_unstable_deps: int = 0
    unstable_deps: list[str] = field(default_factory=list)
    effects_setting_state: int = 0
    effects_without_cleanup: int = 0
    inline_function_props: int = 0
    inline_object_props: int = 0
    inline_function_props_to_components: int = 0
    inline_object_props_to_components: int = 0
    render_scope_array_work: int = 0
    props_forwarded: int = 0
    non_null_assertions: int = 0
    ts_ignores: int = 0
    memo_hooks: int = 0

    def headline(self) -> dict[str, int]:
        """The numbers the report's before/after table shows."""
        keys = ["any_count", "effects_without_deps", "hooks_missing_deps", "hooks_unstable_deps",
                "effects_setting_state", "effects_without_cleanup", "inline_function_props",
                "inline_object_props", "render_scope_array_work", "props_forwarded",
                "max_component_lines", "components", "lines", "memo_hooks"]
        return {k: getattr(self, k) for k in keys}


def _components(src: str, file: str) -> list[tuple[str, int, int, str]]:
    """(name, start offset, end offset, kind) of components and hooks at top level."""
    sf = split_source(file, src, max_chunk_tokens=10**9)
    return [(c.name, c.start, c.end, c.kind) for c in sf.chunks if c.kind in ("component", "hook")]


def _args(toks: list[Token], open_i: int) -> list[tuple[int, int]]:
    """Argument token ranges [a, b) of the call whose '(' is at open_i."""
    close = match_bracket(toks, open_i)
    depth = toks[open_i].depth + 1
    out, a = [], open_i + 1
    for k in range(open_i + 1, close):
        if toks[k].is_(",") and toks[k].depth == depth:
            out.append((a, k))
            a = k + 1
    if a < close:
        out.append((a, close))
    return out


def _decls(toks: list[Token], lo: int, hi: int, body_depth: int) -> tuple[set[str], set[str], dict[str, str]]:
    """Names declared at ``body_depth`` in toks[lo:hi]: (reactive, stable, initializer kind)."""
    reactive: set[str] = set()
    stable: set[str] = set()
    init: dict[str, str] = {}
    k = lo
    while k < hi:
        t = toks[k]
        if t.kind == "ident" and t.text in ("const", "let", "var", "function") and t.depth == body_depth:
            names: list[str] = []
            j = k + 1
            if j < hi and toks[j].text in ("[", "{"):
                end = match_bracket(toks, j)
                names = [x.text for x in toks[j + 1:end] if x.kind == "ident"]
                j = end + 1
            elif j < hi and toks[j].kind == "ident":
                names = [toks[j].text]
                j += 1
            if t.text == "function":
                reactive.update(names)
                for nm in names:
                    init[nm] = "function"
                k = j
                continue
            # find '=' at this depth, then what follows
            while j < hi and not toks[j].is_("=") and not toks[j].is_(";") and toks[j].depth >= body_depth:
                if toks[j].depth == body_depth and toks[j].text in ("const", "let", "var"):
                    break
                j += 1
            rhs = toks[j + 1] if j + 1 < hi and toks[j].is_("=") else None
            kind = "value"
            if rhs is not None:
                if rhs.text == "useState" or rhs.text == "useReducer":
                    kind = "state"
                elif rhs.text in STABLE_HOOKS:
                    kind = "ref"
                elif rhs.text in ("useMemo", "useCallback"):
                    kind = "memo"
                elif rhs.text in ("{", "[") or rhs.text in ("new", "function", "async"):
                    kind = "fresh"
                elif rhs.is_("("):
                    end = match_bracket(toks, j + 1)
                    if end + 1 < hi and toks[end + 1].is_("=>"):
                        kind = "fresh"
                    elif end + 1 < hi and toks[end + 1].is_(":"):
                        kind = "fresh"
                elif rhs.kind == "ident" and j + 2 < hi and toks[j + 2].is_("=>"):
                    kind = "fresh"
            if kind == "state" and len(names) >= 2:
                reactive.add(names[0])
                stable.update(names[1:])
            elif kind == "ref":
                stable.update(names)
            else:
                reactive.update(names)
                for nm in names:
                    init[nm] = kind
            k = j + 1
            continue
        k += 1
    return reactive, stable, init


def _param_names(toks: list[Token], lo: int, hi: int) -> list[str]:
    for k in range(lo, hi):
        if toks[k].is_("("):
            end = match_bracket(toks, k)
            inner = toks[k + 1:end]
            if inner and inner[0].is_("{"):
                close = match_bracket(toks, k + 1)
                names = []
                for m in range(k + 2, close):
                    t = toks[m]
                    if t.kind == "ident" and toks[m].depth == toks[k + 1].depth + 1 and \
                            not toks[m - 1].is_(":") and not toks[m - 1].is_("="):
                        names.append(t.text)
                return names
            return [inner[0].text] if inner and inner[0].kind == "ident" else []
    return []


def _used_paths(toks: list[Token], a: int, b: int) -> list[tuple[str, str]]:
    """(name, name.member) for identifiers read in toks[a:b] (not after '.', not object keys)."""
    out = []
    for k in range(a, b):
        t = toks[k]
        if t.kind != "ident":
            continue
        if k > 0 and (toks[k - 1].is_(".") or toks[k - 1].is_("?.")):
            continue
        if k + 1 < len(toks) and toks[k + 1].is_(":") and k > 0 and toks[k - 1].text in ("{", ","):
            continue
        path = t.text
        # Only `props.x` is narrowed to the member, as React's lint rule does for props.
        if t.text == "props" and k + 2 < b and toks[k + 1].text in (".", "?.") and \
                toks[k + 2].kind == "ident":
            path = f"{t.text}.{toks[k + 2].text}"
        out.append((t.text, path))
    return out


def _declared_inside(toks: list[Token], a: int, b: int) -> set[str]:
    names = set()
    for k in range(a, b):
        t = toks[k]
        if t.kind == "ident" and t.text in ("const", "let", "var", "function") and k + 1 < b:
            if toks[k + 1].kind == "ident":
                names.add(toks[k + 1].text)
            elif toks[k + 1].text in ("[", "{"):
                end = match_bracket(toks, k + 1)
                names.update(x.text for x in toks[k + 2:end] if x.kind == "ident")
    # arrow/function parameters inside the callback
    for k in range(a, b):
        if toks[k].is_("=>"):
            if toks[k - 1].kind == "ident":
                names.add(toks[k - 1].text)
            elif toks[k - 1].is_(")"):
                depth = toks[k - 1].depth
                m = k - 2
                while m > a and not (toks[m].is_("(") and toks[m].depth == depth):
                    if toks[m].kind == "ident" and not toks[m - 1].is_(":"):
                        names.add(toks[m].text)
                    m -= 1
    return names


def measure_source(src: str, file: str = "input.tsx") -> Measures:
    """All measures for one file's text."""
    toks = tokenize(src)
    comments = tokenize(src, keep_comments=True)
    m = Measures(file=file, lines=src.count("\n") + (0 if src.endswith("\n") else 1))
    m.ts_ignores = sum(1 for t in comments if t.kind == "comment" and
                       ("@ts-ignore" in t.text or "@ts-nocheck" in t.text))
    for k, t in enumerate(toks):
        if t.kind == "ident" and t.text == "any":
            prev = toks[k - 1] if k else None
            nxt = toks[k + 1] if k + 1 < len(toks) else None
            if prev is not None and prev.text in (".", "?."):
                continue
            if nxt is not None and nxt.is_(":") and prev is not None and prev.text in ("{", ","):
                continue
            m.any_count += 1
        if t.is_("!") and k + 1 < len(toks) and toks[k + 1].text in (".", ")", ";", ",", "["):
            if k and (toks[k - 1].kind == "ident" or toks[k - 1].text in (")", "]")):
                m.non_null_assertions += 1

    comps = _components(src, file)
    m.components = sum(1 for c in comps if c[3] == "component")
    for name, a, b, kind in comps:
        if kind == "component":
            lines = src[a:b].strip("\n").count("\n") + 1
            m.component_lines[name] = lines
            m.max_component_lines = max(m.max_component_lines, lines)
        lo = next((k for k, t in enumerate(toks) if t.start >= a), len(toks))
        hi = next((k for k, t in enumerate(toks) if t.start >= b), len(toks))
        _measure_component(m, toks, lo, hi, name)
    _measure_jsx_props(m, toks, comps)
    return m


def _body_range(toks: list[Token], lo: int, hi: int) -> tuple[int, int] | None:
    closes = [k for k in range(lo, hi) if toks[k].is_("}") and toks[k].depth == 0]
    if not closes:
        return None
    close = closes[-1]
    opens = [k for k in range(lo, close) if toks[k].is_("{") and toks[k].depth == 0]
    return (opens[-1] + 1, close) if opens else None


def _missing_deps(toks: list[Token], cb_a: int, cb_b: int, dep_exprs: set[str],
                  reactive: set[str]) -> list[str]:
    """The reactive values (as written: ``props.user.id``) the hook callback in toks[cb_a:cb_b]
    reads that its dependency list does not cover."""
    inner = _declared_inside(toks, cb_a, cb_b)
    missing: list[str] = []
    for base, path in _used_paths(toks, cb_a, cb_b):
        if base not in reactive or base in inner:
            continue
        covered = base in dep_exprs or path in dep_exprs or any(
            d.startswith(path + ".") for d in dep_exprs)
        if not covered and path not in missing:
            missing.append(path)
    return missing


def _has_cleanup(toks: list[Token], cb_a: int, cb_b: int) -> bool:
    """Whether an effect's callback returns (a cleanup) directly in its own body."""
    arrow = next((q for q in range(cb_a, cb_b) if toks[q].is_("=>")), None)
    if arrow is None or arrow + 1 >= cb_b or not toks[arrow + 1].is_("{"):
        return False
    body_depth = toks[arrow + 1].depth + 1
    return any(toks[q].text == "return" and toks[q].depth == body_depth
               for q in range(arrow + 1, cb_b))


def _measure_component(m: Measures, toks: list[Token], lo: int, hi: int, name: str) -> None:
    body = _body_range(toks, lo, hi)
    if body is None:
        return
    b0, b1 = body
    params = _param_names(toks, lo, b0)
    reactive, stable, init = _decls(toks, b0, b1, 1)
    reactive.update(params)
    reactive -= stable
    setters = stable
    skip_ranges: list[tuple[int, int]] = []
    for k in range(b0, b1):
        t = toks[k]
        if t.kind != "ident" or t.text not in HOOKS_WITH_DEPS or k + 1 >= b1 or not toks[k + 1].is_("("):
            continue
        if k and toks[k - 1].is_("."):
            continue
        args = _args(toks, k + 1)
        if not args:
            continue
        m.memo_hooks += t.text in ("useMemo", "useCallback")
        cb_a, cb_b = args[0]
        skip_ranges.append((cb_a, cb_b))
        is_effect = t.text in EFFECTS
        if is_effect:
            m.effects += 1
        if len(args) < 2:
            if is_effect:
                m.effects_without_deps += 1
        else:
            da, db = args[1]
            dep_exprs = _dep_exprs(toks, da, db)
            missing = _missing_deps(toks, cb_a, cb_b, dep_exprs, reactive)
            if missing:
                m.hooks_missing_deps += 1
                m.missing_deps.extend(f"{name}:{toks[k].line}:{p}" for p in missing)
            unstable = [d for d in dep_exprs if init.get(d) == "fresh"]
            if unstable:
                m.hooks_unstable_deps += 1
                m.unstable_deps.extend(f"{name}:{toks[k].line}:{d}" for d in unstable)
        if is_effect:
            cb_names = {x.text for x in toks[cb_a:cb_b] if x.kind == "ident"}
            if cb_names & setters and not cb_names & _ASYNC_MARKERS:
                m.effects_setting_state += 1
            if cb_names & _SUBSCRIBE and not _has_cleanup(toks, cb_a, cb_b):
                m.effects_without_cleanup += 1
    # Handlers declared as functions in the body do not run on render.
    for k in range(b0, b1):
        t = toks[k]
        if t.depth == 1 and t.text in ("const", "let", "function") and k + 1 < b1:
            nm = toks[k + 1].text
            if init.get(nm) == "fresh" or t.text == "function":
                end = k + 2
                while end < b1 and not (toks[end].depth == 1 and toks[end].text in (";", "const", "let", "function", "return", "if")):
                    end += 1
                if init.get(nm) == "fresh" or t.text == "function":
                    if any(toks[q].is_("=>") or toks[q].text == "function" for q in range(k + 2, min(end, k + 40))):
                        skip_ranges.append((k + 2, end))
        if t.is_("=") and k + 2 < b1 and toks[k + 1].is_("{") and toks[k - 1].kind == "ident" \
                and toks[k - 1].end == t.start:
            inner_end = match_bracket(toks, k + 1)
            if any(toks[q].is_("=>") or toks[q].text == "function" for q in range(k + 2, min(inner_end, k + 12))):
                first = toks[k + 2]
                if first.is_("(") or first.text in ("function", "async") or (
                        first.kind == "ident" and toks[k + 3].is_("=>")):
                    skip_ranges.append((k + 2, inner_end))

    def skipped(q: int) -> bool:
        return any(a <= q < b for a, b in skip_ranges)

    for k in range(b0, b1):
        t = toks[k]
        if skipped(k) or t.kind != "ident":
            continue
        if t.text in _ARRAY_WORK and k and toks[k - 1].text in (".", "?.") and \
                k + 1 < b1 and toks[k + 1].is_("("):
            m.render_scope_array_work += 1
        elif _EXPENSIVE_CALL.match(t.text) and k + 1 < b1 and toks[k + 1].is_("(") and \
                not (k and toks[k - 1].text in (".", "function")):
            m.render_scope_array_work += 1


def _dep_exprs(toks: list[Token], a: int, b: int) -> set[str]:
    exprs = set()
    if a < b and toks[a].is_("["):
        close = match_bracket(toks, a)
        cur: list[str] = []
        for t in toks[a + 1:close]:
            if t.is_(",") and t.depth == toks[a].depth + 1:
                if cur:
                    exprs.add("".join(cur))
                cur = []
            else:
                cur.append(t.text)
        if cur:
            exprs.add("".join(cur))
    return {e.replace("?.", ".") for e in exprs}


def _measure_jsx_props(m: Measures, toks: list[Token], comps: list[tuple[str, int, int, str]]) -> None:
    for k in range(1, len(toks) - 2):
        t = toks[k]
        if not (t.is_("=") and toks[k - 1].kind == "ident" and toks[k - 1].end == t.start
                and toks[k + 1].is_("{") and toks[k + 1].start == t.end):
            continue
        tag = _enclosing_tag(toks, k - 1)
        if tag is None:
            continue
        to_component = tag[:1].isupper()
        first = toks[k + 1 + 1]
        close = match_bracket(toks, k + 1)
        is_fn = first.text in ("function", "async") or (
            first.is_("(") and match_bracket(toks, k + 2) + 1 < close and
            toks[match_bracket(toks, k + 2) + 1].is_("=>")) or (
            first.kind == "ident" and toks[k + 3].is_("=>"))
        if is_fn:
            m.inline_function_props += 1
            m.inline_function_props_to_components += to_component
        elif first.text in ("{", "["):
            m.inline_object_props += 1
            m.inline_object_props_to_components += to_component
        else:
            value = "".join(x.text for x in toks[k + 2:close])
            attr = toks[k - 1].text
            comp = next((c for c in comps if c[1] <= t.start < c[2]), None)
            if to_component and comp is not None and value in (f"props.{attr}", attr):
                params = _param_names(toks, next(q for q, x in enumerate(toks) if x.start >= comp[1]), k)
                if value.startswith("props.") or attr in params:
                    m.props_forwarded += 1


def _enclosing_tag(toks: list[Token], k: int) -> str | None:
    """The JSX tag an attribute at ``k`` belongs to, if it sits inside ``<Tag ...``."""
    depth = toks[k].depth
    q = k - 1
    while q > 0 and k - q < 400:
        t = toks[q]
        if t.depth < depth:
            return None
        if t.depth == depth:
            if t.text in (";", ">") and not (t.is_(">") and toks[q - 1].is_("=")):
                return None
            if t.is_("<") and toks[q + 1].kind == "ident" and toks[q + 1].start == t.end:
                name = toks[q + 1].text
                j = q + 2
                while j < k and toks[j].is_("."):
                    name += "." + toks[j + 1].text
                    j += 2
                return name
        q -= 1
    return None


def measure_file(path: Path) -> Measures:
    return measure_source(path.read_text(encoding="utf-8"), path.name)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m logomesh_tui.codepipe.measures",
        description="Static measures of React/TypeScript files (heuristic; see the module doc).")
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    results = {}
    for path in args.files:
        if not path.is_file():
            print(f"error: {path} does not exist or is not a file", file=sys.stderr)
            return 1
        results[str(path)] = asdict(measure_file(path))
    if args.json:
        print(json.dumps(results if len(results) > 1 else next(iter(results.values())), indent=2))
        return 0
    for name, data in results.items():
        print(name)
        for key, value in data.items():
            if key != "file" and not isinstance(value, (list, dict)):
                print(f"  {key:38} {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
