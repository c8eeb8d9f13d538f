"""The user's project around a file or folder: its root, TypeScript, tsconfig, eslint, tests.

``find_project(path)`` walks up from ``path`` to the nearest folder with a ``package.json``
(and the nearest ``tsconfig.json`` at or above the file, up to that root) and describes what
LogoMesh needs to check a change the way the project itself would: which TypeScript it has,
which eslint and config, which test runner (vitest or jest, from package.json and config files),
and how its dependencies are installed. ``covering_tests`` finds the test files that import a
module, directly or through index files that re-export it.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import json5

from ..errors import LogoMeshError

SOURCE_SUFFIXES = (".ts", ".tsx", ".mts", ".cts", ".js", ".jsx", ".mjs", ".cjs")
_SKIP_DIRS = {"node_modules", ".git", "dist", "build", "coverage", ".next", "out",
              "storybook-static", ".turbo", ".cache"}
_TEST_FILE_RE = re.compile(r"\.(test|spec)\.[cm]?[jt]sx?$")
_ESLINT_FLAT = ("eslint.config.js", "eslint.config.mjs", "eslint.config.cjs", "eslint.config.ts",
                "eslint.config.mts", "eslint.config.cts")
_ESLINT_LEGACY = (".eslintrc.js", ".eslintrc.cjs", ".eslintrc.json", ".eslintrc.yml",
                  ".eslintrc.yaml", ".eslintrc")
_VITEST_CONFIGS = ("vitest.config.ts", "vitest.config.mts", "vitest.config.js",
                   "vitest.config.mjs", "vite.config.ts", "vite.config.mts", "vite.config.js",
                   "vite.config.mjs")
_JEST_CONFIGS = ("jest.config.js", "jest.config.ts", "jest.config.mjs", "jest.config.cjs",
                 "jest.config.json")
_LOCKS = (("pnpm-lock.yaml", "pnpm install"), ("yarn.lock", "yarn install"),
          ("package-lock.json", "npm ci"), ("npm-shrinkwrap.json", "npm ci"))
# import/export ... from "x"; import "x"; import("x"); require("x")
_SPECIFIER_RE = re.compile(
    r"""(?:\bfrom\s*|\bimport\s*\(?\s*|\brequire\s*\(\s*)(["'])([^"'\n]+)\1""")
_REEXPORT_RE = re.compile(r"""\bexport\s+(?:type\s+)?(?:\*(?:\s+as\s+\w+)?|\{[^}]*\})\s*from\s*"""
                          r"""(["'])([^"'\n]+)\1""")


class ProjectError(LogoMeshError):
    """The project cannot be checked as it is (no dependencies installed, an unknown runner)."""


@dataclass(frozen=True)
class TestRunner:
    """The project's own test runner."""

    name: str  # "vitest" | "jest"
    entry: Path  # the runner's node entry point inside node_modules
    version: str


@dataclass(frozen=True)
class Project:
    """What LogoMesh knows of one JavaScript/TypeScript project."""

    root: Path
    package: dict = field(repr=False, hash=False, compare=False)
    tsconfig: Path | None
    typescript: Path | None  # node_modules/typescript/bin/tsc of the project, when installed
    typescript_version: str | None
    eslint: Path | None  # node_modules/eslint/bin/eslint.js, when installed
    eslint_config: Path | None
    runner: TestRunner | None
    runner_problem: str  # why no runner could be used (empty when there is one)
    install_command: str

    @property
    def node_modules(self) -> Path:
        return self.root / "node_modules"

    @property
    def installed(self) -> bool:
        return self.node_modules.is_dir()

    def require_installed(self) -> None:
        """Raise :class:`ProjectError` naming the install command when node_modules is absent."""
        if not self.installed:
            raise ProjectError(f"{self.root} has no node_modules: run `{self.install_command}` "
                               "there first")

    def notes(self) -> list[str]:
        """What the checks will use, one line each, for the user to see."""
        out = [f"project: {self.root}"]
        out.append(f"tsconfig: {self.tsconfig}" if self.tsconfig else
                   "tsconfig: none (LogoMesh's own strict settings)")
        out.append(f"TypeScript: the project's {self.typescript_version}" if self.typescript
                   else "TypeScript: not in the project's node_modules; LogoMesh's own is used")
        out.append(f"eslint: the project's, config {self.eslint_config.name}"
                   if self.eslint and self.eslint_config else
                   "eslint: the project has no eslint and config; LogoMesh's own rules are used")
        out.append(f"tests: {self.runner.name} {self.runner.version}" if self.runner
                   else f"tests: not run ({self.runner_problem})")
        return out

    def source_files(self) -> list[Path]:
        """Every source file of the project (not node_modules, builds, or dot folders)."""
        return sorted(_walk_sources(self.root))

    def test_files(self) -> list[Path]:
        return [p for p in self.source_files() if is_test_file(p, self.root)]


def is_test_file(path: Path, root: Path) -> bool:
    return is_test_name(path.relative_to(root).as_posix())


def is_test_name(name: str) -> bool:
    """Whether a path (``/``-separated) names a test file: ``*.test.*``, ``*.spec.*`` or a
    file under ``__tests__``."""
    parts = name.split("/")
    return bool(_TEST_FILE_RE.search(parts[-1])) or "__tests__" in parts[:-1]


def _walk_sources(root: Path) -> Iterable[Path]:
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d not in _SKIP_DIRS and not d.startswith(".")]
        for name in filenames:
            if name.endswith(SOURCE_SUFFIXES) and not name.endswith(".d.ts"):
                yield Path(dirpath) / name


def _read_json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _version(node_modules: Path, package: str) -> str | None:
    return _read_json(node_modules / package / "package.json").get("version")


def find_root(path: Path) -> Path | None:
    """The nearest folder at or above ``path`` that holds a package.json."""
    path = path.resolve()
    for d in [path, *path.parents] if path.is_dir() else path.parents:
        if (d / "package.json").is_file():
            return d
    return None


def find_project(path: Path | str) -> Project | None:
    """The project around ``path`` (a file or folder), or None for a file outside any project."""
    path = Path(path).resolve()
    root = find_root(path)
    if root is None:
        return None
    pkg = _read_json(root / "package.json")
    nm = root / "node_modules"
    start = path if path.is_dir() else path.parent
    tsconfig = next((d / "tsconfig.json" for d in [start, *start.parents]
                     if d.is_relative_to(root) and (d / "tsconfig.json").is_file()), None)
    tsc = nm / "typescript" / "bin" / "tsc"
    eslint = nm / "eslint" / "bin" / "eslint.js"
    config = next((root / n for n in (*_ESLINT_FLAT, *_ESLINT_LEGACY) if (root / n).is_file()),
                  None)
    if config is None and "eslintConfig" in pkg:
        config = root / "package.json"
    runner, problem = _runner(root, pkg)
    install = next((cmd for lock, cmd in _LOCKS if (root / lock).is_file()), "npm install")
    return Project(root=root, package=pkg, tsconfig=tsconfig,
                   typescript=tsc if tsc.is_file() else None,
                   typescript_version=_version(nm, "typescript"),
                   eslint=eslint if eslint.is_file() else None, eslint_config=config,
                   runner=runner, runner_problem=problem, install_command=install)


def _runner(root: Path, pkg: dict) -> tuple[TestRunner | None, str]:
    deps = {**pkg.get("dependencies", {}), **pkg.get("devDependencies", {})}
    scripts = " ".join(str(v) for v in pkg.get("scripts", {}).values())
    nm = root / "node_modules"
    wants_vitest = "vitest" in deps or "vitest" in scripts or any(
        (root / n).is_file() for n in _VITEST_CONFIGS[:4])
    wants_jest = "jest" in deps or re.search(r"\bjest\b", scripts) or "jest" in pkg or any(
        (root / n).is_file() for n in _JEST_CONFIGS)
    if wants_vitest:
        entry = nm / "vitest" / "vitest.mjs"
        if entry.is_file():
            return TestRunner("vitest", entry, _version(nm, "vitest") or "?"), ""
        return None, "vitest is named by the project but not installed in its node_modules"
    if wants_jest:
        entry = nm / "jest" / "bin" / "jest.js"
        if entry.is_file():
            return TestRunner("jest", entry, _version(nm, "jest") or "?"), ""
        return None, "jest is named by the project but not installed in its node_modules"
    for other in ("mocha", "ava", "uvu", "tap", "playwright"):
        if other in deps or re.search(rf"\b{other}\b", scripts):
            return None, f"the project's test runner ({other}) is not supported: vitest and jest are"
    return None, "the project names no test runner"


# --- which tests cover a module ------------------------------------------------------------


@dataclass
class _Resolver:
    """Resolves import specifiers the way the project's tsconfig does (relative, baseUrl,
    ``paths`` with one ``*``), to files inside the project."""

    root: Path
    base: Path | None = None
    paths: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def for_project(cls, project: Project) -> _Resolver:
        if project.tsconfig is None:
            return cls(project.root)
        opts = _compiler_options(project.tsconfig)
        base = project.tsconfig.parent / opts["baseUrl"] if "baseUrl" in opts else None
        paths = opts.get("paths") or {}
        return cls(project.root, base.resolve() if base else None,
                   {k: list(v) for k, v in paths.items() if isinstance(v, list)})

    def resolve(self, spec: str, importer: Path) -> Path | None:
        if spec.startswith("."):
            return _file_for(importer.parent / spec)
        base = self.base or self.root
        for pattern, targets in self.paths.items():
            head, star, tail = pattern.partition("*")
            if star and spec.startswith(head) and spec.endswith(tail) and len(spec) >= len(
                    head) + len(tail):
                middle = spec[len(head):len(spec) - len(tail)]
                for t in targets:
                    hit = _file_for(base / t.replace("*", middle, 1))
                    if hit:
                        return hit
            elif not star and spec == pattern:
                for t in targets:
                    hit = _file_for(base / t)
                    if hit:
                        return hit
        if self.base is not None:
            return _file_for(self.base / spec)
        return None


def _compiler_options(tsconfig: Path, depth: int = 0) -> dict:
    """compilerOptions with ``extends`` followed (relative files only; a package's base config
    adds no paths), ``baseUrl`` made relative to ``tsconfig``'s folder."""
    data = _read_jsonc(tsconfig)
    opts: dict = {}
    ext = data.get("extends")
    for e in ([ext] if isinstance(ext, str) else ext if isinstance(ext, list) else []):
        if depth < 5 and isinstance(e, str) and e.startswith("."):
            parent = (tsconfig.parent / e)
            parent = parent if parent.suffix == ".json" else parent.with_suffix(".json")
            inherited = _compiler_options(parent, depth + 1)
            if "baseUrl" in inherited:
                inherited["baseUrl"] = os.path.relpath(
                    (parent.parent / inherited["baseUrl"]).resolve(), tsconfig.parent)
            opts.update(inherited)
    opts.update(data.get("compilerOptions") or {})
    return opts


def _read_jsonc(path: Path) -> dict:
    """A tsconfig: JSON with comments and trailing commas."""
    try:
        data = json5.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _file_for(base: Path) -> Path | None:
    if base.is_file():
        return base.resolve()
    for suffix in SOURCE_SUFFIXES:
        cand = base.with_name(base.name + suffix)
        if cand.is_file():
            return cand.resolve()
    if base.is_dir():
        for suffix in SOURCE_SUFFIXES:
            cand = base / f"index{suffix}"
            if cand.is_file():
                return cand.resolve()
    return None


def imports_of(path: Path) -> list[str]:
    """The module specifiers a source file imports or re-exports."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    return [m.group(2) for m in _SPECIFIER_RE.finditer(text)]


def _reexports(path: Path) -> list[str]:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    return [m.group(2) for m in _REEXPORT_RE.finditer(text)]


def covering_tests(project: Project, modules: Iterable[Path]) -> list[Path]:
    """Test files that import one of ``modules``, directly or through files that re-export it
    (an ``index.ts`` with ``export * from './x'``), in path order."""
    resolver = _Resolver.for_project(project)
    targets = {Path(m).resolve() for m in modules}
    # Files that stand for a target: the targets, and any file re-exporting one (to a fixpoint).
    stands_for = set(targets)
    sources = [p.resolve() for p in project.source_files()]
    changed = True
    while changed:
        changed = False
        for src in sources:
            if src in stands_for:
                continue
            if any(resolver.resolve(s, src) in stands_for for s in _reexports(src)):
                stands_for.add(src)
                changed = True
    out = []
    for test in project.test_files():
        if test.resolve() in targets:
            continue
        if any(resolver.resolve(s, test.resolve()) in stands_for for s in imports_of(test)):
            out.append(test)
    return out
