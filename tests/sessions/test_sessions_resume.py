"""Resume after a simulated crash: the session continues from the next turn."""

import asyncio
import json

from logomesh_tui.conversation import MultiModelSession, ResourceLimits
from logomesh_tui.pool.fake import FakeBackend
from logomesh_tui.sessions import SessionStore

ROLES = ["a", "b", "c"]


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


async def crash_during_round_two(store):
    s = MultiModelSession(store=store, limits=ResourceLimits(max_rounds=4, concurrency=1))
    for i, role in enumerate(ROLES):
        await s.add_model(role, FakeBackend(f"model-{i}", responder=reply))
    task = asyncio.ensure_future(s.execute_collaborative_prompt("Analyse it."))
    seen = []

    def crash_after_first_critique(e):
        if e.kind == "message" and e.message.round == 2:
            seen.append(e)
            task.cancel()  # the process dies between two turns of round 2

    s.add_listener(crash_after_first_critique)
    try:
        await task
    except asyncio.CancelledError:
        pass
    return s


async def test_resume_after_crash_with_torn_line_continues_from_next_turn(tmp_path):
    store = SessionStore(tmp_path)
    crashed = await crash_during_round_two(store)
    path = tmp_path / f"{crashed.session_id}.jsonl"
    with path.open("a") as f:
        f.write('{"seq": 999, "kind": "message", "session_id": "x", "da')  # torn write
    before = store.read(crashed.session_id)
    assert before.torn_tail
    done = [(e.message.round, e.message.from_role) for e in before.events if e.kind == "message"]
    assert done == [(1, "a"), (1, "b"), (1, "c"), (2, "a")]

    fresh = {r: FakeBackend(f"model-{i}", responder=reply) for i, r in enumerate(ROLES)}
    session = MultiModelSession.restore(store, crashed.session_id)
    assert session.participants() == {"a": "model-0", "b": "model-1", "c": "model-2"}
    assert session.next_round() == 2
    for role, b in fresh.items():
        await session.add_model(role, b)
    r = await session.resume()

    # a's round-2 critique is not asked again; b and c speak in round 2, then rounds 3-4.
    assert [q.json_schema is not None for q in fresh["a"].requests].count(True) == 2
    spoken = [(m.round, m.from_role) for m in r.messages if m.from_role != "human"]
    assert spoken[:4] == done
    assert spoken[4:6] == [(2, "b"), (2, "c")]
    assert (3, "a") in spoken and sum(1 for x in spoken if x[0] == 4) == 3
    assert [m.short_id for m in r.messages] == [f"m{i}" for i in range(1, len(r.messages) + 1)]
    # Resumed prompts carry the earlier conversation.
    text = "\n".join(m["content"] for m in fresh["b"].requests[0].messages)
    assert "[m1]" in text and "Analyse it." in text

    after = store.read(crashed.session_id)
    assert not after.torn_tail and after.bad_lines == 0
    seqs = [e.seq for e in after.events]
    assert seqs == list(range(len(seqs)))
    kinds = [e.kind for e in after.events]
    assert kinds.count("session_started") == 1 and kinds[-1] == "session_finished"
    assert any(e.kind == "note" and e.event == "resumed" for e in after.events)


async def test_resume_rejects_finished_and_unknown_sessions(tmp_path):
    import pytest

    from logomesh_tui.errors import LogoMeshError

    store = SessionStore(tmp_path)
    s = MultiModelSession(store=store, limits=ResourceLimits(max_rounds=1))
    await s.add_model("a", FakeBackend("m", responder=reply))
    await s.execute_collaborative_prompt("go")
    with pytest.raises(LogoMeshError, match="already finished"):
        MultiModelSession.restore(store, s.session_id)
    with pytest.raises(LogoMeshError, match="no session"):
        MultiModelSession.restore(store, "nope")


async def test_a_restored_session_has_its_input_files_as_the_models_saw_them(tmp_path):
    from logomesh_tui.conversation.session import files_from_task

    store = SessionStore(tmp_path)
    files = {"src/a.tsx": "export const A = () => <p>```a```</p>;\n",
             "src/b.ts": "export const b = 1;\n\nFILE not-a-header\n"}
    s = MultiModelSession(store=store, limits=ResourceLimits(max_rounds=2), input_files=files)
    await s.add_model("a", FakeBackend("model-0", responder=reply))
    task = asyncio.ensure_future(s.execute_collaborative_prompt("Review both files."))
    s.add_listener(lambda e: e.kind == "message" and task.cancel())
    try:
        await task
    except asyncio.CancelledError:
        pass
    restored = MultiModelSession.restore(store, s.session_id)
    assert restored.input_files == files
    assert files_from_task(s.task_text(), ["src/b.ts", "missing.ts"]) == {
        "src/b.ts": files["src/b.ts"]}
