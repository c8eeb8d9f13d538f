"""What the dashboard remembers between runs (the theme), in the user's state folder.

Written from the event loop, so the write goes through aiofiles and never blocks the UI; a
temporary file renamed into place means a crash never leaves half a file.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import aiofiles
import aiofiles.os

from ..config import state_dir

STATE_FILE = "ui-state.json"


def state_path() -> Path:
    return state_dir() / STATE_FILE


def load_state() -> dict[str, Any]:
    """The remembered values; empty when nothing was saved or the file is unreadable."""
    try:
        data = json.loads(state_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


async def save_state(**values: Any) -> None:
    """Merge ``values`` into the state file. Raises OSError when the folder is not writable."""
    path = state_path()
    data = load_state()
    data.update(values)
    await aiofiles.os.makedirs(path.parent, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    async with aiofiles.open(tmp, "w", encoding="utf-8") as f:
        await f.write(json.dumps(data, indent=2))
    await aiofiles.os.replace(tmp, path)
