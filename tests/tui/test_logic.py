"""Pure logic behind the panes: sparklines, percentiles, bars, stream text, event lines."""

from __future__ import annotations

import pytest

from logomesh_tui.conversation.messages import Vote
from logomesh_tui.sessions.events import (
    Arbitration,
    ConsensusScored,
    Note,
    Swap,
    TurnFailed,
    VoteCast,
)
from logomesh_tui.tui.stats import MetricsStore, percentile, sparkline
from logomesh_tui.tui.widgets.registry import memory_bar
from logomesh_tui.tui.widgets.timeline import describe_event, visible_stream_text
from logomesh_tui.units import format_bytes


def test_sparkline_scales_between_low_and_high():
    assert sparkline([0, 1, 2, 3, 4, 5, 6, 7], 8, low=0, high=7) == "▁▂▃▄▅▆▇█"
    assert sparkline([], 4) == "    "
    assert sparkline([5, 5], 3) == " ▅▅", "a flat non-zero series is visible and right-aligned"
    assert sparkline(list(range(100)), 5)[-1] == "█", "only the newest values are drawn"


@pytest.mark.parametrize(("q", "expected"), [(0, 1.0), (50, 2.5), (100, 4.0), (90, 3.7)])
def test_percentile_interpolates(q, expected):
    assert percentile([4.0, 1.0, 3.0, 2.0], q) == pytest.approx(expected)


def test_percentile_of_nothing_is_none():
    assert percentile([], 50) is None


def test_metrics_store_tracks_turns_consensus_and_memory():
    m = MetricsStore()
    m.record_turn("a", 40.0, 1.0)
    m.record_turn("a", 60.0, 3.0)
    m.record_consensus(1, 0.25)
    m.record_consensus(1, 0.5)  # a re-score of the same round replaces it
    m.record_consensus(2, 0.75)
    assert list(m.throughput["a"]) == [40.0, 60.0]
    assert m.consensus == [(1, 0.5), (2, 0.75)] and m.rounds == 2
    assert m.turns == 2
    assert m.latency_percentiles()["p50"] == pytest.approx(2.0)
    m.reset_conversation()
    assert m.consensus == [] and m.turns == 0 and list(m.throughput["a"]) == [40.0, 60.0]


def test_memory_bar_uses_eighths_and_clamps():
    assert memory_bar(50, 100, 4) == "██  "
    assert memory_bar(200, 100, 4) == "████"
    assert memory_bar(None, 100, 4) == "    "
    assert memory_bar(1, 100, 4).strip() in ("", "▏")


def test_one_byte_formatter_for_columns_and_sentences():
    assert format_bytes(98_362_432, compact=True) == "94M"
    assert format_bytes(1_737_000_000, compact=True) == "1.6G"
    assert format_bytes(None, compact=True) == format_bytes(None) == "-"
    assert format_bytes(98_362_432) == "98.4 MB"
    assert format_bytes(512) == "512 B"
    assert format_bytes(1_737_000_000_000) == "1737.0 GB"


def test_stream_text_shows_the_content_field_of_partial_json():
    assert visible_stream_text('{"message_type": "proposal", "content": "Extract a hoo') == \
        "Extract a hoo"
    assert visible_stream_text('{"message_type": "prop') == ""
    assert visible_stream_text('{"content": "line one\\nline') == "line one\nline"
    assert visible_stream_text('{"content": "ends in escape \\') == "ends in escape "
    assert visible_stream_text("plain words") == "plain words"


def test_event_lines_name_what_happened():
    short = {"abc123def456": "m3"}
    assert describe_event(Swap(role="documentation-writer", old_model_id="a",
                               new_model_id="b", seconds=1.25)) == \
        "swap documentation-writer: a → b (1.2s)"
    assert describe_event(VoteCast(vote=Vote(voter="architecture-critic",
                                             target_id="abc123def456", weight=0.8)), short) == \
        "vote architecture-critic for m3 (weight 0.8)"
    assert describe_event(ConsensusScored(round=2, score=0.6666)) == "consensus round 2: 0.67"
    assert "m3 chosen by human" in describe_event(
        Arbitration(choice_id="abc123def456", decided_by="human"), short)
    assert describe_event(TurnFailed(role="r", model_id="x", reason="cut off")) == \
        "failure r (x): cut off"


def test_model_names_keep_their_distinguishing_end():
    from logomesh_tui.tui.widgets.metrics import middle_truncate

    assert middle_truncate("qwen2.5-coder-0.5b", 12) == "qwen2.…-0.5b"
    assert middle_truncate("qwen2.5-coder-1.5b", 12) != middle_truncate("qwen2.5-coder-0.5b", 12)
    assert middle_truncate("smollm2-135m", 12) == "smollm2-135m"


def test_round_notes_read_as_sentences():
    assert describe_event(Note(event="round_started", round=2, name="critique",
                               speakers=["a", "b"])) == "round 2: critique — a, b"


def test_session_rows_come_from_cheap_summaries(tmp_path):
    from datetime import UTC, datetime

    from logomesh_tui.sessions.store import SessionSummary
    from logomesh_tui.tui.screens.open_session import session_row

    row = SessionSummary(id="s1", started=datetime(2026, 12, 1, 23, 5, tzinfo=UTC),
                         prompt="Analyse the component", roles={}, message_count=7,
                         finished=False, path=tmp_path / "s1.jsonl")
    assert session_row(row) == ("s1", "12-01 23:05 open   7 msgs  Analyse the component")
