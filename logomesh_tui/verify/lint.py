"""Lint with the pinned eslint: react-hooks (rules-of-hooks, exhaustive-deps and the React
Compiler rules the plugin ships: set-state-in-effect, immutability, purity, refs, ...) and
type-aware typescript-eslint (no-explicit-any, no-floating-promises), over a tsconfig of ours.

Linting reads the code and never runs it, so it needs no sandbox.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
from pathlib import Path

from pydantic import BaseModel, Field

from .compiler import safe_relpath
from .toolchain import CheckToolchain, ToolchainError, ensure_checks

LINT_TIMEOUT_S = 180

ESLINT_CONFIG = """\
import tseslint from "typescript-eslint";
import reactHooks from "eslint-plugin-react-hooks";
export default [
  {
    files: ["**/*.ts", "**/*.tsx"],
    languageOptions: {
      parser: tseslint.parser,
      parserOptions: { project: "./tsconfig.json", tsconfigRootDir: import.meta.dirname,
                       ecmaFeatures: { jsx: true } },
    },
    plugins: { "@typescript-eslint": tseslint.plugin, "react-hooks": reactHooks },
    linterOptions: { reportUnusedDisableDirectives: "off" },
    rules: {
      ...reactHooks.configs["recommended-latest"].rules,
      "@typescript-eslint/no-explicit-any": "warn",
      "@typescript-eslint/no-floating-promises": "warn",
    },
  },
];
"""

TSCONFIG = {"compilerOptions": {
    "strict": True, "noEmit": True, "jsx": "react-jsx", "target": "es2022", "module": "esnext",
    "moduleResolution": "bundler", "moduleDetection": "force", "skipLibCheck": True,
    "lib": ["es2022", "dom", "dom.iterable"], "types": []},
    "include": ["**/*.ts", "**/*.tsx"], "exclude": ["node_modules"]}

# What each rule asks for, in words a small model can act on (shown with the finding).
RULE_TEXT: dict[str, str] = {
    "react-hooks/rules-of-hooks": "Call hooks only at the top level of a component or custom "
        "hook, never inside conditions, loops or nested functions.",
    "react-hooks/exhaustive-deps": "Every value from the component scope that the hook's "
        "callback reads must be in its dependency array. If adding a value would re-run the "
        "effect on every render (an object or function created during render), move that "
        "value inside the effect or outside the component instead.",
    "react-hooks/set-state-in-effect": "Do not call setState synchronously in an effect body. "
        "A value computed from props or state belongs in a variable computed during render "
        "(or useMemo), not in state that an effect copies it into.",
    "react-hooks/immutability": "Do not mutate props, state or values captured by a hook; "
        "create a new value instead.",
    "react-hooks/purity": "Rendering must be pure: no Date.now(), Math.random() or other "
        "impure calls during render.",
    "react-hooks/refs": "Do not read or write ref.current during render.",
    "react-hooks/set-state-in-render": "Do not call setState during render.",
    "react-hooks/static-components": "Do not define components inside other components.",
    "react-hooks/preserve-manual-memoization": "Keep useMemo/useCallback dependencies complete "
        "so the memoization can be preserved.",
    "@typescript-eslint/no-explicit-any": "Do not use the type `any`. Write the precise type "
        "(an interface or type that exists in the file, a union, or `unknown` and narrow it).",
    "@typescript-eslint/no-floating-promises": "A promise must be handled: end the chain with "
        "`.catch(...)`, or mark it deliberately ignored with `void`.",
    "runtime/never-settles": "The component keeps re-rendering and re-fetching after an "
        "interaction. An effect whose dependency is a new object or function every render runs "
        "after every render; make the dependency stable (move the object inside the effect or "
        "outside the component) or depend on the values it is built from.",
    "runtime/render-loop": "A state update runs on every render. Remove the update from render "
        "or give the effect dependencies that stop changing.",
    "runtime/timers-left-running": "An effect that starts setInterval/setTimeout must return a "
        "cleanup that clears it: `return () => clearInterval(id);`.",
    "runtime/extra-renders": "One event renders more than once because an effect copies "
        "derived data into state. Compute the value during render instead.",
    "runtime/repeated-api-calls": "One interaction calls the same endpoint several times; an "
        "effect runs more often than needed.",
}


class Suggestion(BaseModel):
    """An eslint suggestion: replace ``text[start:end]`` with ``replacement``."""

    description: str
    start: int
    end: int
    replacement: str


class LintFinding(BaseModel):
    file: str
    line: int
    rule: str
    message: str
    severity: int = 1
    suggestions: list[Suggestion] = Field(default_factory=list)


def lint_sources(files: dict[str, str], *, checks: CheckToolchain | None = None
                 ) -> list[LintFinding]:
    """Lint ``files`` (relative path -> text) together; findings sorted by file and line.

    Raises :class:`ToolchainError` with one line when eslint itself fails (not when it finds
    problems)."""
    checks = checks or ensure_checks()
    with tempfile.TemporaryDirectory(prefix="logomesh-lint-") as tmp:
        root = Path(tmp)
        (root / "node_modules").symlink_to(checks.node_modules, target_is_directory=True)
        (root / "eslint.config.mjs").write_text(ESLINT_CONFIG)
        (root / "tsconfig.json").write_text(json.dumps(TSCONFIG))
        for name, text in files.items():
            dest = root / safe_relpath(name)
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_text(text, encoding="utf-8")
        checks.check_intact()
        try:
            proc = subprocess.run(
                [checks.node, str(checks.eslint), "--format", "json", "--no-warn-ignored",
                 *sorted(files)], cwd=root, capture_output=True, text=True,
                timeout=LINT_TIMEOUT_S)
        except subprocess.TimeoutExpired as exc:
            raise ToolchainError(f"eslint ran over {LINT_TIMEOUT_S} s") from exc
        prefix = str(root) + "/"
    try:
        data = json.loads(proc.stdout)
    except ValueError as exc:
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise ToolchainError(f"eslint failed: {last[:200]}") from exc
    return parse_eslint_json(data, list(files), prefix)


def parse_eslint_json(data: list[dict], files: list[str], prefix: str) -> list[LintFinding]:
    """Findings from eslint's ``-f json`` report; paths under ``prefix`` made relative."""
    found: list[LintFinding] = []
    for entry in data:
        path = entry["filePath"]
        rel = path.removeprefix(prefix) if path.startswith(prefix) else \
            next((f for f in files if path.endswith("/" + f)), Path(path).name)
        for m in entry.get("messages", []):
            rule = m.get("ruleId") or "syntax"
            first = str(m.get("message", "")).strip().splitlines()[0]
            found.append(LintFinding(
                file=rel, line=int(m.get("line") or 0), rule=rule,
                message=first.removeprefix("Error: ")[:300], severity=int(m.get("severity") or 1),
                suggestions=eslint_fixes(m)))
    return sorted(found, key=lambda f: (f.file, f.line, f.rule))


def eslint_fixes(message: dict) -> list[Suggestion]:
    """An eslint message's autofix and its suggestions, as character-range replacements of the
    file eslint read."""
    fixes = [*([{"desc": "autofix", "fix": message["fix"]}] if message.get("fix") else []),
             *message.get("suggestions", [])]
    return [Suggestion(description=str(x.get("desc", "")), start=int(x["fix"]["range"][0]),
                       end=int(x["fix"]["range"][1]), replacement=str(x["fix"]["text"]))
            for x in fixes if isinstance(x.get("fix"), dict) and "range" in x["fix"]]


def project_lint_config(checks: CheckToolchain, tsconfig: Path) -> str:
    """LogoMesh's rules over a user's project: the same rules as ``ESLINT_CONFIG``, typed by
    the project's own tsconfig (its paths, its node_modules' types)."""
    nm = checks.node_modules
    return (ESLINT_CONFIG
            .replace('from "typescript-eslint"',
                     f"from {json.dumps(str(nm / 'typescript-eslint/dist/index.js'))}")
            .replace('from "eslint-plugin-react-hooks"',
                     f"from {json.dumps(str(nm / 'eslint-plugin-react-hooks/index.js'))}")
            .replace('project: "./tsconfig.json", tsconfigRootDir: import.meta.dirname',
                     f"project: {json.dumps(str(tsconfig))}, "
                     f"tsconfigRootDir: {json.dumps(str(tsconfig.parent))}"))
