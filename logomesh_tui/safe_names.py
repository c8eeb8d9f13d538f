"""Names users give to things the app writes (exports, refactor output folders): one folder
component, never a path that could escape the folder it is created in."""

from __future__ import annotations

import os
import re

from .errors import LogoMeshError

MAX_NAME = 100
_SAFE_CHAR = re.compile(r"[^A-Za-z0-9._-]+")


def safe_component(name: str, *, what: str, example: str,
                   error: type[LogoMeshError] = LogoMeshError) -> str:
    """Return ``name`` as a safe single path component, or raise ``error``.

    Absolute paths, separators, ``..`` and names starting with ``.`` are refused; other odd
    characters become ``-``. ``what`` names the thing in messages ("export name"), ``example``
    is a valid name to suggest.
    """
    if not isinstance(name, str) or not name.strip():
        raise error(f"{what} is empty; use letters, digits, '.', '_' or '-'")
    raw = name.strip()
    if "\x00" in raw:
        raise error(f"{what} contains a NUL byte")
    if raw.startswith(("/", "\\", "~")) or re.match(r"^[A-Za-z]:", raw) or os.path.isabs(raw):
        raise error(f"{what} {name!r} is an absolute path; give a plain name such as {example}")
    if "/" in raw or "\\" in raw:
        raise error(f"{what} {name!r} contains a path separator; give a plain name such as {example}")
    if raw.startswith("."):
        raise error(f"{what} {name!r} starts with '.'; names must start with a letter or digit")
    safe = _SAFE_CHAR.sub("-", raw).strip("-.")
    safe = re.sub(r"-{2,}", "-", re.sub(r"\.{2,}", ".", safe))[:MAX_NAME].rstrip("-.")
    if not safe:
        raise error(f"{what} {name!r} has no usable characters; use letters, digits, '.', '_' or '-'")
    return safe
