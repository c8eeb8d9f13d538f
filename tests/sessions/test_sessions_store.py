import errno
import json
import os

import pytest

from logomesh_tui.conversation import MultiModelSession, ResourceLimits
from logomesh_tui.errors import LogoMeshError
from logomesh_tui.pool.fake import FakeBackend
from logomesh_tui.sessions import SessionStore, validate_session_id
from logomesh_tui.sessions.events import SCHEMA_VERSION, Note


def reply(req, b):
    if req.json_schema is None:
        return "summary"
    props = req.json_schema["properties"]
    out = {"message_type": props["message_type"]["enum"][0], "content": f"{b.model_id} says",
           "references": props["references"]["items"].get("enum", [])[-1:],
           "confidence": 0.7}
    if "vote" in props:
        out["vote"] = props["vote"]["enum"][0]
    return json.dumps(out)


def test_events_are_appended_one_line_each_and_read_back(tmp_path):
    store = SessionStore(tmp_path)
    rec = store.recorder("s1")
    for i in range(3):
        rec.append(Note(i=i))
    lines = [json.loads(x) for x in (tmp_path / "s1.jsonl").read_text().splitlines()]
    assert [x["i"] for x in lines] == [0, 1, 2]
    assert {x["v"] for x in lines} == {SCHEMA_VERSION}, "every line carries its schema version"
    got = store.read("s1")
    assert [e.seq for e in got.events] == [0, 1, 2] and not got.torn_tail


def test_torn_last_line_is_ignored_and_cut_before_appending(tmp_path):
    store = SessionStore(tmp_path)
    rec = store.recorder("s2")
    rec.append(Note(i=0))
    rec.append(Note(i=1))
    with (tmp_path / "s2.jsonl").open("a") as f:
        f.write('{"seq": 2, "kind": "mess')
    got = store.read("s2")
    assert [e.seq for e in got.events] == [0, 1] and got.torn_tail
    again = store.recorder("s2", resume=True)
    again.append(Note(i=2))
    got = store.read("s2")
    assert [e.seq for e in got.events] == [0, 1, 2] and not got.torn_tail
    assert got.bad_lines == 0


@pytest.mark.parametrize("bad", ["../x", "a/b", "", ".hidden", "x" * 200, "a\\b", "..",
                                 "/etc/passwd"])
def test_session_ids_cannot_escape_the_folder(tmp_path, bad):
    with pytest.raises(LogoMeshError, match="invalid session id"):
        SessionStore(tmp_path).path_for(bad)
    assert validate_session_id("20261125-101010-abc123")


async def run_session(store, rounds=4):
    s = MultiModelSession(store=store, limits=ResourceLimits(max_rounds=rounds))
    for i, role in enumerate(["a", "b", "c"]):
        await s.add_model(role, FakeBackend(f"model-{i}", responder=reply))
    return s, await s.execute_collaborative_prompt("Analyse the thing.")


async def test_list_summarises_sessions(tmp_path):
    store = SessionStore(tmp_path)
    s, r = await run_session(store)
    rows = store.list()
    assert len(rows) == 1
    row = rows[0]
    assert row.id == s.session_id and row.prompt == "Analyse the thing."
    assert row.roles == {"a": "model-0", "b": "model-1", "c": "model-2"}
    assert row.message_count == len(r.messages) and row.finished
    assert row.final_score == r.consensus_score
    assert store.resolve_id(s.session_id[:12]) == s.session_id


async def test_every_event_is_on_disk_when_recorded(tmp_path):
    store = SessionStore(tmp_path)
    s = MultiModelSession(store=store, limits=ResourceLimits(max_rounds=1))
    await s.add_model("a", FakeBackend("m", responder=reply))
    sizes = []
    s.add_listener(lambda e: sizes.append(len(store.read(s.session_id).events)))
    await s.execute_collaborative_prompt("go")
    # When a listener hears of event n, the file already holds n+1 events.
    assert sizes == list(range(1, len(sizes) + 1))


async def test_unwritable_folder_keeps_the_conversation_going(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    s, r = await run_session(SessionStore(blocker / "sessions"))
    assert r.final_answer and r.rounds_run == 4
    assert not r.saving and r.save_warning.startswith("not saving:")
    assert len(s.events) > 10  # kept in memory


async def test_disk_full_midway_stops_saving_without_raising(tmp_path, monkeypatch):
    store = SessionStore(tmp_path)
    real_write, calls = os.write, [0]

    def flaky_write(fd, data):
        calls[0] += 1
        if calls[0] > 5:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(fd, data)

    monkeypatch.setattr(os, "write", flaky_write)
    s, r = await run_session(store)
    monkeypatch.setattr(os, "write", real_write)
    assert r.final_answer and not s.saving
    assert "No space left" in s.save_warning
    on_disk = store.read(s.session_id).events
    assert len(on_disk) == 5 and len(s.events) > 5
