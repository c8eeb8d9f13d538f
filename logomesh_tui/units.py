"""How sizes are written, everywhere: one byte formatter."""

from __future__ import annotations


def format_bytes(n: int | None, *, compact: bool = False) -> str:
    """``n`` bytes for people: ``98.4 MB`` (SI units, for messages and tables), or with
    ``compact`` the one-letter binary form narrow columns use (``94M``, ``1.6G``, as ``ls -h``
    prints). ``None`` (not measured) is ``-``."""
    if n is None:
        return "-"
    if compact:
        for unit, scale, digits in (("G", 1024 ** 3, 1), ("M", 1024 ** 2, 0), ("K", 1024, 0)):
            if n >= scale:
                return f"{n / scale:.{digits}f}{unit}"
        return f"{n}B"
    size = float(n)
    for unit in ("B", "KB", "MB"):
        if size < 1000:
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{size:.1f} GB"
