"""The session log's schema: versioned lines, old files still read, damage reported.

``fixtures/v1/`` holds two session files written by the code before typed events existed
(commit 13271f5, schema version 1: the payload in a ``data`` dict, no ``v``): one interrupted in
round 2 after a hot-swap and a failed turn, one finished. They are real recorder output of a
``MultiModelSession`` on the fake engine, not hand-written.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Literal

import pytest

from logomesh_tui.cli.main import main
from logomesh_tui.conversation import MultiModelSession
from logomesh_tui.export import export_session
from logomesh_tui.export.view import load_session
from logomesh_tui.pool.fake import FakeBackend
from logomesh_tui.sessions import SessionStore
from logomesh_tui.sessions import events as ev
from logomesh_tui.sessions.events import SCHEMA_VERSION, Event, parse_event, upgrade
from logomesh_tui.sessions.store import quick_summary


def reply(request, backend) -> str:
    """A valid turn for any round: the first allowed type, citing the newest id, voting first."""
    props = request.json_schema["properties"] if request.json_schema else None
    if props is None:
        return "summary"
    out = {"message_type": props["message_type"]["enum"][0],
           "content": f"{backend.model_id} says", "confidence": 0.7,
           "references": props["references"]["items"].get("enum", [])[-1:]}
    if "vote" in props:
        out["vote"] = props["vote"]["enum"][0]
    return json.dumps(out)


V1 = Path(__file__).parent / "fixtures" / "v1"
INTERRUPTED = "20261201-230000-v1a0a0"
FINISHED = "20261201-230500-v1b0b0"


@pytest.fixture
def sessions(tmp_path) -> Path:
    folder = tmp_path / "sessions"
    shutil.copytree(V1, folder)
    return folder


def v1_lines(session_id: str) -> list[dict]:
    return [json.loads(x) for x in (V1 / f"{session_id}.jsonl").read_text().splitlines()]


def test_the_fixtures_are_version_1_files():
    for sid in (INTERRUPTED, FINISHED):
        lines = v1_lines(sid)
        assert all("v" not in x and "data" in x for x in lines)


def test_every_version_1_line_upgrades_to_its_typed_event():
    kinds = set()
    for sid in (INTERRUPTED, FINISHED):
        for raw in v1_lines(sid):
            event = parse_event(raw)
            kinds.add(event.kind)
            assert type(event) is Event.KINDS[raw["kind"]] and event.v == SCHEMA_VERSION
            assert event.seq == raw["seq"] and event.session_id == raw["session_id"]
            data = raw["data"]
            if isinstance(event, ev.MessagePosted):
                assert event.message.id == data["id"] and event.message.from_role == data["from"]
            elif isinstance(event, ev.VoteCast):
                assert event.vote.target_id == data["target_id"]
                assert event.target_short_id == data["target_short_id"]
            else:
                # Every field the old line had is kept under the same name.
                assert {k: v for k, v in event.payload().items() if k in data} == data
    assert {"session_started", "message", "swap", "vote", "consensus", "failure",
            "turn_metrics", "note", "session_finished"} <= kinds


def test_a_line_from_a_newer_version_is_refused_with_a_reason():
    with pytest.raises(ValueError, match="newer than this program reads"):
        upgrade({"v": SCHEMA_VERSION + 1, "kind": "note"})


def test_a_new_event_kind_is_one_class():
    class Checked(Event):
        kind: Literal["checked_for_test"] = "checked_for_test"
        verdict: str

    try:
        event = parse_event({"v": SCHEMA_VERSION, "seq": 3, "kind": "checked_for_test",
                             "session_id": "s", "verdict": "ok"})
        assert isinstance(event, Checked) and event.verdict == "ok"
    finally:
        Event.KINDS.pop("checked_for_test")


def test_version_1_sessions_open_show_and_list(sessions, capsys):
    store = SessionStore(sessions)
    result = store.read(INTERRUPTED)
    assert not result.damaged and not result.torn_tail
    assert [e.seq for e in result.events] == list(range(len(result.events)))
    rows = {r.id: r for r in store.list()}
    assert rows[FINISHED].finished and not rows[INTERRUPTED].finished
    assert rows[INTERRUPTED].roles["optimization-specialist"] == "gemma-3-270m"  # the swap
    assert main(["--sessions-dir", str(sessions), "sessions", "show", INTERRUPTED]) == 0
    shown = capsys.readouterr().out
    assert "hot-swap optimization-specialist" in shown and "turn failed" in shown
    assert f"resume {INTERRUPTED}" in shown


async def test_a_version_1_session_resumes_and_appends_version_2_lines(sessions):
    store = SessionStore(sessions)
    session = MultiModelSession.restore(store, INTERRUPTED)
    before = store.read(INTERRUPTED).events
    done = [(e.message.round, e.message.from_role) for e in before
            if isinstance(e, ev.MessagePosted)]
    assert session.next_round() == 2 and (2, "optimization-specialist") in done
    for role, model in session.participants().items():
        await session.add_model(role, FakeBackend(model, responder=reply))
    response = await session.resume()
    assert response.rounds_run == 4 or response.stopped_reason == "converged"
    raw = [json.loads(x) for x in store.path_for(INTERRUPTED).read_text().splitlines()]
    old, new = raw[:len(before)], raw[len(before):]
    assert all("v" not in x for x in old) and new and all(x["v"] == SCHEMA_VERSION for x in new)
    after = store.read(INTERRUPTED)
    assert not after.damaged and after.events[-1].kind == "session_finished"
    assert [e.seq for e in after.events] == list(range(len(after.events)))
    spoken = [(m.round, m.from_role) for m in response.messages if m.from_role != "human"]
    assert spoken[:len(done)] == done, "earlier turns are not asked again"


def test_a_version_1_session_exports(sessions, tmp_path):
    view = load_session(FINISHED, sessions)
    assert view.messages and view.votes and view.finished is not None
    report = export_session(FINISHED, "training-data", name="v1", sessions_dir=sessions,
                            out_dir=tmp_path / "out")
    records = [json.loads(x) for x in report.data_file.read_text().splitlines()]
    assert len(records) == report.records == len(view.model_turns()) > 0
    contents = {m.content for m in view.model_turns()}
    assert all(any(c in json.dumps(r) for c in contents) for r in records)


def test_a_damaged_line_in_the_middle_is_reported_not_skipped_silently(sessions, capsys):
    path = sessions / f"{FINISHED}.jsonl"
    lines = path.read_text().splitlines()
    index = next(i for i, x in enumerate(lines) if json.loads(x)["kind"] == "message")
    broken = json.loads(lines[index])
    broken["data"]["confidence"] = 7  # out of range
    lines[index] = json.dumps(broken)
    lines[index + 2] = lines[index + 2][:30]  # cut short, newline kept
    path.write_text("\n".join(lines) + "\n")

    result = SessionStore(sessions).read(FINISHED)
    assert not result.torn_tail
    assert [(d.line, d.kind) for d in result.damaged][0] == (index + 1, "message")
    assert result.damaged[0].seq == broken["seq"] and "confidence" in result.damaged[0].error
    assert result.damaged[1].line == index + 3 and "not JSON" in result.damaged[1].error
    assert len(result.events) == len(lines) - 2

    assert main(["--sessions-dir", str(sessions), "sessions", "show", FINISHED]) == 0
    out = capsys.readouterr().out
    assert f"line {index + 1}: a message event (seq {broken['seq']})" in out
    assert f"line {index + 3}" in out
    assert load_session(FINISHED, sessions).skipped_messages == 1


def test_a_torn_last_line_is_still_only_a_torn_tail(sessions):
    path = sessions / f"{INTERRUPTED}.jsonl"
    with path.open("a") as f:
        f.write('{"v": 2, "seq": 999, "kind": "mess')
    result = SessionStore(sessions).read(INTERRUPTED)
    assert result.torn_tail and not result.damaged


def test_the_quick_summary_counts_without_validating_messages(sessions):
    path = sessions / f"{FINISHED}.jsonl"
    full = SessionStore(sessions).read(FINISHED)
    lines = path.read_text().splitlines()
    index = next(i for i, x in enumerate(lines) if json.loads(x)["kind"] == "message")
    broken = json.loads(lines[index])
    broken["data"]["confidence"] = 7
    lines[index] = json.dumps(broken)
    path.write_text("\n".join(lines) + "\n")
    row = quick_summary(FINISHED, path)
    # The summary does not validate messages: the damaged one is still counted as a message.
    assert row.message_count == sum(1 for e in full.events if e.kind == "message")
    assert row.finished and row.prompt == "Analyse the component."
    # A change to the file is seen (the cache is keyed by size and mtime).
    with path.open("a") as f:
        f.write("not json\n")
    assert quick_summary(FINISHED, path).unreadable_lines == 1
