"""A folder as the scope of a conversation: its source files, what they import, their tests.

``read_scope(DIR)`` lists the TypeScript sources under a folder (the project's test files
aside), the project's test files that cover them (directly or through index re-exports), and
for each source what it imports: another file in the scope, a file of the project outside it,
or a package. Texts are read until a character budget is spent (a conversation's context window
is small); the outline names every file either way, so the models know what they were not shown.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import LogoMeshError
from .project import (
    SOURCE_SUFFIXES,
    Project,
    _Resolver,
    _walk_sources,
    covering_tests,
    find_project,
    imports_of,
    is_test_file,
)

MAX_SCOPE_FILES = 200
"""Sources listed at the most (a folder larger than this is the wrong scope for a
conversation)."""


class ScopeError(LogoMeshError):
    """The folder cannot be a scope (missing, empty, unreadable)."""


@dataclass
class ScopeFile:
    path: Path
    name: str  # as the user would write it: relative to the current folder when inside it
    kind: str  # "source" | "test"
    imports: list[tuple[str, str]] = field(default_factory=list)  # (specifier, what it is)
    text: str | None = None  # None: left out for the budget


@dataclass
class Scope:
    folder: Path
    project: Project | None
    files: list[ScopeFile]

    def texts(self) -> dict[str, str]:
        """The files read, by name (sources first, then tests)."""
        return {f.name: f.text for f in self.files if f.text is not None}

    def left_out(self) -> list[str]:
        return [f.name for f in self.files if f.text is None]

    def outline(self) -> str:
        """What the scope holds, for the prompt: project, files with their imports, tests."""
        head = f"SCOPE {self.folder}"
        if self.project is not None:
            head += f" (project {self.project.root})"
        lines = [head + ":"]
        for f in self.files:
            shown = "" if f.text is not None else " [not attached: over the context budget]"
            lines.append(f"- {f.kind} {f.name}{shown}")
            for spec, what in f.imports:
                lines.append(f"    imports {spec} -> {what}")
        return "\n".join(lines)


def _name(path: Path, cwd: Path) -> str:
    return os.path.relpath(path, cwd) if path.is_relative_to(cwd) else str(path)


def read_scope(folder: Path | str, *, budget_chars: int = 24_000,
               cwd: Path | None = None) -> Scope:
    """The scope of ``folder``; texts are attached, sources first, while ``budget_chars``
    lasts (a file that does not fit is named in the outline only)."""
    root = Path(folder).expanduser()
    if not root.is_dir():
        raise ScopeError(f"{folder} is not a folder: give a folder of .ts/.tsx files")
    root = root.resolve()
    here = (cwd or Path.cwd()).resolve()
    project = find_project(root)
    top = project.root if project is not None else root
    sources = [p.resolve() for p in sorted(_walk_sources(root))
               if p.suffix in (".ts", ".tsx") and not is_test_file(p, top)]
    if not sources:
        raise ScopeError(f"{folder} holds no .ts or .tsx source files: give a folder of "
                         "TypeScript sources")
    if len(sources) > MAX_SCOPE_FILES:
        raise ScopeError(f"{folder} holds {len(sources)} source files (at most "
                         f"{MAX_SCOPE_FILES}): give a smaller folder")
    tests = covering_tests(project, sources) if project is not None else []
    resolver = _Resolver.for_project(project) if project is not None else _Resolver(root)
    in_scope = set(sources)
    files = []
    for p in sources:
        imports = []
        for spec in dict.fromkeys(imports_of(p)):
            hit = resolver.resolve(spec, p)
            what = ("package" if hit is None and not spec.startswith(".")
                    else "unresolved" if hit is None
                    else _name(hit, here) + ("" if hit in in_scope else " (outside the scope)"))
            imports.append((spec, what))
        files.append(ScopeFile(p, _name(p, here), "source", imports))
    files += [ScopeFile(t.resolve(), _name(t.resolve(), here), "test") for t in tests]
    left = budget_chars
    for f in files:
        try:
            text = f.path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ScopeError(f"cannot read {f.name}: {exc}") from exc
        if len(text) <= left:
            f.text = text
            left -= len(text)
    return Scope(root, project, files)


__all__ = ["MAX_SCOPE_FILES", "SOURCE_SUFFIXES", "Scope", "ScopeError", "ScopeFile",
           "read_scope"]
