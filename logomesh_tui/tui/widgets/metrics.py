"""Performance metrics pane: throughput per model, consensus per round, cycles, latency
percentiles and memory over time, drawn as text sparklines so they fit any width."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from ...units import format_bytes
from ..stats import MetricsStore, sparkline


def middle_truncate(name: str, width: int) -> str:
    """Shorten ``name`` keeping its end, where model names differ (…-0.5b vs …-1.5b)."""
    if len(name) <= width:
        return name
    tail = min(5, width // 2)
    return name[: width - tail - 1] + "…" + name[-tail:]


class MetricsPane(Static):
    """Renders a MetricsStore; the app calls ``refresh_metrics`` when the store changes."""

    DEFAULT_CSS = """
    MetricsPane { height: 1fr; overflow-y: auto; }
    """

    def __init__(self, store: MetricsStore, **kwargs) -> None:
        super().__init__("", **kwargs)
        self.store = store

    def on_mount(self) -> None:
        self.border_title = "Metrics"
        self.refresh_metrics()

    def on_resize(self) -> None:
        self.refresh_metrics()

    def refresh_metrics(self) -> None:
        self.update(self.render_metrics(max(20, self.size.width) if self.size.width else 30))

    def render_metrics(self, width: int) -> Text:
        s = self.store
        out = Text()
        out.append("tok/s per model\n", style="bold")
        if not s.throughput:
            out.append("  no turns yet\n", style="dim")
        spark_w = max(6, width // 4)
        name_w = max(8, min(20, width - spark_w - 5))
        for model, series in s.throughput.items():
            values = list(series)
            last = values[-1] if values else 0.0
            label = middle_truncate(model, name_w)
            out.append(f"{label:<{name_w}} ")
            out.append(sparkline(values, spark_w, low=0.0), style="cyan")
            out.append(f"{last:>4.0f}\n")
        out.append("consensus ", style="bold")
        if s.consensus:
            scores = [score for _, score in s.consensus]
            out.append(sparkline(scores, min(len(scores), max(4, width - 16)), low=0.0, high=1.0),
                       style="magenta")
            out.append(f" {scores[-1]:.2f}\n")
        else:
            out.append("-\n", style="dim")
        out.append("cycles\n", style="bold")
        out.append(f"  rounds {s.rounds} · turns {s.turns}\n")
        out.append(f"  failed {s.failures} · swaps {s.swaps}\n")
        pct = s.latency_percentiles()
        out.append("latency p50/p90/p99\n", style="bold")
        if pct["p50"] is None:
            out.append("  -\n", style="dim")
        else:
            out.append("  " + " / ".join(f"{v:.1f}" for v in pct.values() if v is not None)
                       + " s\n")
        out.append("memory ", style="bold")
        mem = list(s.memory)
        if mem:
            spark_w = max(4, width - 13)
            out.append(sparkline([float(m) for m in mem], spark_w, low=0.0), style="green")
            out.append(f" {format_bytes(mem[-1], compact=True):>5}")
        else:
            out.append("-", style="dim")
        return out
