"""Model registry pane: one row per role with its model, status, memory, speed and pin."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import events
from textual.widgets import DataTable

from ...pool.types import MemoryStats, ModelInfo
from ...units import format_bytes

STATUS_STYLES = {
    "loading": "bold yellow",
    "ready": "bold green",
    "busy": "bold cyan",
    "swapping": "bold magenta",
    "failed": "bold red",
    "unloaded": "dim",
    "empty": "dim",
}

BAR_CHARS = " ▏▎▍▌▋▊▉█"


def memory_bar(used: int | None, budget: int, width: int) -> str:
    """A bar ``width`` cells wide showing ``used`` against ``budget`` in eighths of a cell."""
    if not used or budget <= 0 or width <= 0:
        return " " * max(width, 0)
    eighths = min(width * 8, round(used / budget * width * 8))
    full, part = divmod(eighths, 8)
    bar = "█" * full + (BAR_CHARS[part] if part and full < width else "")
    return bar.ljust(width)


def _seconds(value: float | None) -> str:
    """At most 4 characters: 0.8s, 36s, 104s."""
    if value is None:
        return "-"
    return f"{value:.1f}s" if value < 10 else f"{value:.0f}s"


def _fit(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(0, width - 1)] + "…"


@dataclass
class RoleRow:
    """What one row shows; built by the app from the engine's ModelInfo and pool events."""

    role: str
    model_id: str = ""
    status: str = "empty"
    rss_bytes: int | None = None
    last_response_s: float | None = None
    tokens_per_s: float | None = None
    pinned: bool = False
    error: str | None = None

    @classmethod
    def from_info(cls, info: ModelInfo, status: str | None = None) -> RoleRow:
        return cls(role=info.role, model_id=info.model_id, status=status or str(info.status),
                   rss_bytes=info.rss_bytes, last_response_s=info.last_response_s,
                   tokens_per_s=info.tokens_per_s, pinned=info.pinned, error=info.error)


class RegistryPane(DataTable):
    """The model registry. Arrow keys pick a role; the app's actions use the highlighted role."""

    DEFAULT_CSS = """
    RegistryPane { height: auto; max-height: 8; }
    """

    # Cells carry their own one-space gap instead of the table's two-cell padding, so the
    # seven columns and whole role names fit an 80-column terminal.
    FIXED = {"status": 9, "memory": 10, "last": 6, "tps": 6, "pin": 2}

    def __init__(self, **kwargs) -> None:
        super().__init__(cursor_type="row", zebra_stripes=False, cell_padding=0, **kwargs)
        self.rows_by_role: dict[str, RoleRow] = {}
        self.budget: int = 0
        self._layout_width = 0

    def on_mount(self) -> None:
        self.border_title = "Models"
        self._build_columns()

    def on_resize(self, event: events.Resize) -> None:
        if event.size.width != self._layout_width:
            self._build_columns()
            self._render_rows()

    def _widths(self) -> dict[str, int]:
        inner = max(40, self.size.width) if self.size.width else 78
        self._layout_width = self.size.width
        rest = max(20, inner - sum(self.FIXED.values()) - 1)
        role = min(25, max(12, rest - 20))
        model = min(26, rest - role)
        # A wide terminal gives the memory bar the room the names do not need.
        memory = self.FIXED["memory"] + max(0, min(30, rest - role - model))
        return {"role": role, "model": model, **self.FIXED, "memory": memory}

    def _build_columns(self) -> None:
        widths = self._widths()
        labels = {"role": "Role", "model": "Model", "status": "Status", "memory": "Memory",
                  "last": "Last", "tps": "tok/s", "pin": "P"}
        self.clear(columns=True)
        for key, label in labels.items():
            self.add_column(" " + label, width=widths[key], key=key)

    @property
    def highlighted_role(self) -> str | None:
        """The role under the cursor, or None when the table is empty."""
        if not self.row_count:
            return None
        try:
            row_key, _ = self.coordinate_to_cell_key(self.cursor_coordinate)
        except Exception:
            return None
        return str(row_key.value) if row_key.value is not None else None

    def show(self, rows: list[RoleRow], memory: MemoryStats | None) -> None:
        """Replace the table's contents, keeping the cursor on the same role."""
        self.rows_by_role = {r.role: r for r in rows}
        self.budget = memory.budget if memory else 0
        total = memory.total if memory else 0
        self.border_subtitle = (f"{format_bytes(total, compact=True)} / "
                                f"{format_bytes(self.budget, compact=True)}" if memory else "")
        self._render_rows()

    def _cells(self, row: RoleRow, widths: dict[str, int]) -> list[Text | str]:
        style = STATUS_STYLES.get(row.status, "")
        bar_w = widths["memory"] - 6
        mem = (Text(" ") + Text(memory_bar(row.rss_bytes, self.budget, bar_w), style="green")
               + Text(" " + format_bytes(row.rss_bytes, compact=True).rjust(4))
               ) if row.rss_bytes else Text(" -")
        last = _seconds(row.last_response_s)
        tps = f"{row.tokens_per_s:.0f}" if row.tokens_per_s else "-"
        return [
            Text(" " + _fit(row.role, widths["role"] - 1), style="bold"),
            " " + _fit(row.model_id or "—", widths["model"] - 1),
            Text(" " + row.status, style=style),
            mem,
            " " + last,
            " " + tps,
            Text(" ●", style="bold yellow") if row.pinned else "",
        ]

    def _render_rows(self) -> None:
        keep = self.highlighted_role
        widths = {key: col.width for key, col in
                  ((str(k.value), c) for k, c in self.columns.items())}
        if not widths:
            return
        self.clear()
        for row in self.rows_by_role.values():
            self.add_row(*self._cells(row, widths), key=row.role)
        if keep in self.rows_by_role:
            self.move_cursor(row=list(self.rows_by_role).index(keep))
