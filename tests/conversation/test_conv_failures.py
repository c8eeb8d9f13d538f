import asyncio
import json

from conv_helpers import schema_reply

from logomesh_tui.conversation import MultiModelSession, ResourceLimits
from logomesh_tui.errors import WorkerCrashedError
from logomesh_tui.pool.fake import FakeBackend


class CrashingBackend(FakeBackend):
    async def generate(self, request, on_token=None):
        raise WorkerCrashedError("worker for x exited with code -9")


class SlowBackend(FakeBackend):
    async def generate(self, request, on_token=None):
        await asyncio.sleep(5)


async def test_unusable_reply_is_retried_once_shorter_then_recorded(make_backend):
    bad = make_backend("bad", responder=lambda req, b: '{"message_type": "proposal", "cont')
    good = make_backend("good")
    s = MultiModelSession(store=False, limits=ResourceLimits(max_rounds=2))
    await s.add_model("a", bad)
    await s.add_model("b", good)
    r = await s.execute_collaborative_prompt("go " + "context " * 50)
    # Two attempts per turn, the second with a smaller prompt and a shorter answer.
    assert bad.calls == 4
    first, second = bad.requests[0], bad.requests[1]
    assert (second.json_schema["properties"]["content"]["maxLength"]
            < first.json_schema["properties"]["content"]["maxLength"])
    fails = [f for f in r.failures if f["role"] == "a"]
    assert len(fails) == 2 and all("invalid JSON" in f["reason"] for f in fails)
    notes = [e for e in s.events if e.kind == "note" and e.event == "retry"]
    assert len(notes) == 2
    # The conversation went on without a.
    assert [m.from_role for m in r.messages if m.from_role != "human"] == ["b", "b"]


async def test_cut_off_reply_then_success_on_retry(make_backend):
    replies = iter(["word " * 400])

    def responder(req, b):
        text = next(replies, None)
        return text if text is not None else schema_reply(req, b)

    flaky = make_backend("flaky", responder=responder)
    s = MultiModelSession(store=False, limits=ResourceLimits(max_rounds=1, max_tokens=32))
    await s.add_model("a", flaky)
    r = await s.execute_collaborative_prompt("go")
    assert flaky.calls == 2 and not r.failures
    assert r.messages[0].from_role == "a"


async def test_worker_crash_and_timeout_become_failures(make_backend):
    s = MultiModelSession(store=False, limits=ResourceLimits(max_rounds=2, turn_timeout_s=0.2))
    await s.add_model("crashy", CrashingBackend("c"))
    await s.add_model("slow", SlowBackend("s"))
    await s.add_model("ok", make_backend("fine"))
    r = await s.execute_collaborative_prompt("go")
    reasons = {f["role"]: f["reason"] for f in r.failures}
    assert "WorkerCrashedError" in reasons["crashy"] and "exited" in reasons["crashy"]
    assert reasons["slow"].startswith("timeout after 0.2")
    assert [m.from_role for m in r.messages if m.from_role != "human"] == ["ok", "ok"]
    assert r.final_answer


async def test_turns_run_concurrently_up_to_the_limit():
    active, peak = 0, 0

    class Counting(FakeBackend):
        async def generate(self, request, on_token=None):
            nonlocal active, peak
            active += 1
            peak = max(peak, active)
            await asyncio.sleep(0.05)
            active -= 1
            return await super().generate(request, on_token)

    for limit in (1, 2):
        active, peak = 0, 0
        s = MultiModelSession(store=False, limits=ResourceLimits(max_rounds=1,
                                                                 concurrency=limit))
        for i in range(4):
            await s.add_model(f"r{i}", Counting(f"m{i}", responder=lambda q, b: json.dumps(
                {"message_type": "proposal", "content": "x", "references": [],
                 "confidence": 0.5})))
        await s.execute_collaborative_prompt("go")
        assert peak == limit


async def test_content_length_leaves_room_for_the_json_around_it(make_backend):
    b = make_backend("x")
    s = MultiModelSession(store=False, limits=ResourceLimits(max_tokens=64))
    await s.add_model("a", b)
    await s.add_model("b", make_backend("y"))
    await s.execute_collaborative_prompt("go")
    structured = [q for q in b.requests if q.json_schema is not None]
    lengths = [q.json_schema["properties"]["content"]["maxLength"] for q in structured]
    vote_round = structured[-1]
    assert "vote" in vote_round.json_schema["properties"]
    # The vote field and references take tokens, so the content gets fewer characters;
    # FakeBackend counts len/4 tokens, so the skeleton costs about 20 tokens of the 64.
    assert lengths[-1] < lengths[0] <= int(64 * 2.6) - 60
    assert all(16 <= n <= (64 - 8) * 3 for n in lengths)


async def test_a_reply_that_echoes_the_instructions_is_retried_then_a_failure(make_backend):
    """The smallest models answer "Your turn, a. Round 1 - ..." copied from the prompt: that is
    unusable like an empty reply (retried once, then recorded), never a message on the bus."""

    def echo(req, b):
        turn = req.messages[-1]["content"].splitlines()[-1]
        return json.dumps({"message_type": "analysis", "content": turn[:200],
                           "references": [], "confidence": 0.9})

    parrot = make_backend("parrot", responder=echo)
    good = make_backend("good")
    s = MultiModelSession(store=False, limits=ResourceLimits(max_rounds=1))
    await s.add_model("a", parrot)
    await s.add_model("b", good)
    r = await s.execute_collaborative_prompt("Review this function for bugs.")
    assert parrot.calls == 2
    [fail] = [f for f in r.failures if f["role"] == "a"]
    assert "repeats the turn's instructions" in fail["reason"]
    assert [m.from_role for m in r.messages if m.from_role != "human"] == ["b"]
