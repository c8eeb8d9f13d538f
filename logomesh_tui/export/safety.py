"""Export safety: names that cannot leave the export folder, atomic writes, secret scrubbing.

Names: an export name is one path component. Traversal (``..``), path separators, absolute
paths, drive letters and names that start with ``.`` are refused; other odd characters
(spaces, punctuation, non-ASCII) are replaced with ``-`` so ``"my session!"`` becomes
``my-session``. The final path is resolved (symlinks followed) and must lie inside the folder.

Secrets: :class:`SecretScrubber` collects the values of the API-key environment variables the
configuration names (``EngineConfig.remotes[].api_key_env``), of every environment variable
whose name ends in ``_API_KEY``, ``_TOKEN``, ``_SECRET`` or ``_PASSWORD``, and well-known key
shapes (``sk-...``, ``hf_...``). Every string written is scrubbed, and the final bytes of each file
are checked again before the file is moved into place; a file that would still hold a secret is
not written at all.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import tempfile
import uuid
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from ..errors import LogoMeshError, UsageError
from ..safe_names import safe_component

REDACTED = "[REDACTED]"
SECRET_SUFFIXES = ("_API_KEY", "_TOKEN", "_SECRET", "_PASSWORD")
# Values of suffix-matched variables shorter than this are flags and paths, not credentials
# (e.g. HF_HUB_DISABLE_TOKEN=1); scrubbing "1" everywhere would destroy the data. Keys the
# config names explicitly are scrubbed whatever their length.
MIN_IMPLICIT_SECRET = 8
KEY_SHAPES = re.compile(r"\b(?:sk-[A-Za-z0-9_-]{20,}|hf_[A-Za-z0-9]{30,}|gh[pousr]_[A-Za-z0-9]{30,}"
                        r"|xox[abpr]-[A-Za-z0-9-]{10,})")


class ExportNameError(UsageError):
    """An export name was refused (it would leave the export folder)."""


class SecretLeakError(LogoMeshError):
    """A file would have contained a secret; nothing was written."""


def safe_export_name(name: str) -> str:
    """Return a safe single-component name for ``name`` or raise ExportNameError."""
    return safe_component(name, what="export name", example="'my-session' (it is created "
                          "inside the export folder)", error=ExportNameError)


def path_inside(root: Path, name: str) -> Path:
    """``root/<safe name>``, guaranteed (after resolving symlinks) to be inside ``root``."""
    root = Path(root)
    target = root / safe_export_name(name)
    real_root = root.resolve()
    real_target = target.resolve()
    if real_target == real_root or not real_target.is_relative_to(real_root):
        raise ExportNameError(f"export name {name!r} resolves outside the export folder "
                              f"{root}; choose another name")
    return target


async def atomic_write_bytes_async(path: Path, data: bytes) -> None:
    """:func:`atomic_write_bytes` through aiofiles, for callers on an event loop."""
    import aiofiles
    import aiofiles.os

    path = Path(path)
    await aiofiles.os.makedirs(path.parent, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        async with aiofiles.open(tmp, "wb") as f:
            await f.write(data)
            await f.flush()
            await asyncio.to_thread(os.fsync, f.fileno())
        await aiofiles.os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            await aiofiles.os.remove(tmp)
        raise


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so readers see the old file or the whole new one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


class SecretScrubber:
    """Removes known secret values from everything an export writes."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        # Longest first, so a secret that contains another is replaced whole.
        self.secrets = sorted({s for s in secrets if s}, key=len, reverse=True)

    @classmethod
    def from_environment(cls, config: Any | None = None,
                         environ: Mapping[str, str] | None = None) -> SecretScrubber:
        """Secrets named by ``config`` (an EngineConfig) plus suffix-matched env vars."""
        env = os.environ if environ is None else environ
        found: list[str] = []
        for remote in getattr(config, "remotes", None) or []:
            var = getattr(remote, "api_key_env", None)
            if var and env.get(var):
                found.append(env[var])
        for var, value in env.items():
            if var.upper().endswith(SECRET_SUFFIXES) and len(value.strip()) >= MIN_IMPLICIT_SECRET:
                found.append(value)
        variants: list[str] = []
        for s in found:
            variants.append(s)
            if s.strip() != s and s.strip():
                variants.append(s.strip())
        return cls(variants)

    def scrub_text(self, text: str) -> str:
        for secret in self.secrets:
            if secret in text:
                text = text.replace(secret, REDACTED)
        return KEY_SHAPES.sub(REDACTED, text)

    def scrub(self, value: Any) -> Any:
        """A copy of ``value`` (JSON-like data) with every string scrubbed, keys included."""
        if isinstance(value, str):
            return self.scrub_text(value)
        if isinstance(value, dict):
            return {self.scrub(k): self.scrub(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self.scrub(v) for v in value]
        return value

    def forms(self, secret: str) -> list[str]:
        """How ``secret`` could appear in a file: raw, and as JSON escapes it."""
        escaped = json.dumps(secret, ensure_ascii=False)[1:-1]
        ascii_escaped = json.dumps(secret)[1:-1]
        return list({secret, escaped, ascii_escaped})

    def check(self, text: str, where: str) -> None:
        """Raise SecretLeakError if any form of a secret is still in ``text``."""
        for secret in self.secrets:
            for form in self.forms(secret):
                if form and form in text:
                    raise SecretLeakError(f"refusing to write {where}: it would contain a "
                                          f"secret from the environment")
        if KEY_SHAPES.search(text):
            raise SecretLeakError(f"refusing to write {where}: it would contain an API key")

    def write_text(self, path: Path, text: str) -> None:
        """Scrub, verify and atomically write ``text``."""
        text = self.scrub_text(text)
        self.check(text, str(path))
        atomic_write_bytes(path, text.encode("utf-8"))
