"""Metrics the dashboard keeps while it runs: pure data, no widgets, so it is easy to test."""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field

SPARK_CHARS = "▁▂▃▄▅▆▇█"


def sparkline(values: list[float], width: int, *, low: float | None = None,
              high: float | None = None) -> str:
    """The last ``width`` values as block characters; an empty series gives spaces."""
    if width <= 0:
        return ""
    tail = values[-width:]
    if not tail:
        return " " * width
    lo = min(tail) if low is None else low
    hi = max(tail) if high is None else high
    span = hi - lo
    chars = []
    for v in tail:
        level = 0 if span <= 0 else round((min(max(v, lo), hi) - lo) / span * (len(SPARK_CHARS) - 1))
        # A flat non-zero series should read as "some", not as "nothing".
        if span <= 0 and v > 0:
            level = len(SPARK_CHARS) // 2
        chars.append(SPARK_CHARS[level])
    return "".join(chars).rjust(width)


def percentile(values: list[float], q: float) -> float | None:
    """Linear-interpolated percentile (q in 0..100); None for no data."""
    if not values:
        return None
    data = sorted(values)
    if len(data) == 1:
        return data[0]
    pos = (len(data) - 1) * q / 100.0
    lo, hi = math.floor(pos), math.ceil(pos)
    return data[lo] + (data[hi] - data[lo]) * (pos - lo)


@dataclass
class MetricsStore:
    """Series the metrics pane draws: throughput per model, consensus per round, latencies,
    total memory over time, and how many rounds and turns have run."""

    history: int = 120
    throughput: dict[str, deque[float]] = field(default_factory=dict)
    latencies: deque[float] = field(default_factory=lambda: deque(maxlen=500))
    consensus: list[tuple[int, float]] = field(default_factory=list)
    memory: deque[int] = field(default_factory=lambda: deque(maxlen=120))
    turns: int = 0
    failures: int = 0
    rounds: int = 0
    swaps: int = 0

    def record_turn(self, model_id: str, tokens_per_s: float, latency_s: float) -> None:
        """One generation finished (usable or not: failed turns are counted from the
        conversation's failure events)."""
        series = self.throughput.setdefault(model_id, deque(maxlen=self.history))
        series.append(max(0.0, tokens_per_s))
        self.latencies.append(max(0.0, latency_s))
        self.turns += 1

    def record_consensus(self, round_no: int, score: float) -> None:
        self.consensus = [(r, s) for r, s in self.consensus if r != round_no]
        self.consensus.append((round_no, score))
        self.consensus.sort()
        self.rounds = max(self.rounds, round_no)

    def record_round(self, round_no: int) -> None:
        self.rounds = max(self.rounds, round_no)

    def record_memory(self, total_bytes: int) -> None:
        self.memory.append(total_bytes)

    def latency_percentiles(self) -> dict[str, float | None]:
        data = list(self.latencies)
        return {f"p{q}": percentile(data, q) for q in (50, 90, 99)}

    def reset_conversation(self) -> None:
        """Forget per-conversation series (consensus, rounds); keep model throughput."""
        self.consensus.clear()
        self.rounds = 0
        self.turns = 0
        self.failures = 0
        self.swaps = 0
