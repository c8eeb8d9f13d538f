"""An unusable reply is retried on the same prompt (its prefix is in the KV cache already),
sampled afresh and asked for less."""

import json

from logomesh_tui.conversation import MultiModelSession, ResourceLimits
from logomesh_tui.pool.fake import FakeBackend
from logomesh_tui.sessions.events import Note

GOOD = json.dumps({"message_type": "analysis", "content": "Memoise the rows.",
                   "references": [], "confidence": 0.6})


async def test_a_retry_resends_the_same_messages_with_a_new_seed_and_a_smaller_reply():
    backend = FakeBackend("m", responder=['{"message_type": "analysis", "content": ', GOOD])
    s = MultiModelSession(store=False, protocol="round-robin",
                          limits=ResourceLimits(max_rounds=1, max_tokens=64, temperature=0.2))
    await s.add_model("primary-analyzer", backend)
    result = await s.execute_collaborative_prompt("Review the component.")
    first, retry = backend.requests
    assert retry.messages == first.messages
    assert retry.seed is not None and retry.seed != first.seed
    assert retry.temperature > first.temperature
    assert retry.max_tokens == first.max_tokens  # only a cut-off widens the budget
    limit = first.json_schema["properties"]["content"]["maxLength"]
    assert retry.json_schema["properties"]["content"]["maxLength"] == max(16, limit // 2)
    assert [m.content for m in result.messages] == ["Memoise the rows."] and not result.failures
    notes = [e for e in s.events if isinstance(e, Note) and e.event == "retry"]
    assert len(notes) == 1 and notes[0].reason.startswith("invalid JSON")


async def test_two_unusable_replies_fail_the_turn_and_the_next_turn_starts_afresh():
    backend = FakeBackend("m", responder=["not json", "still not json", GOOD])
    s = MultiModelSession(store=False, protocol="round-robin",
                          limits=ResourceLimits(max_rounds=2, min_rounds=2, max_tokens=64))
    await s.add_model("primary-analyzer", backend)
    result = await s.execute_collaborative_prompt("Review the component.")
    assert [f["round"] for f in result.failures] == [1]
    third = backend.requests[2]
    # A fresh build: one user message, not the failed request with more appended.
    assert len(third.messages) == 1 and third.messages[0]["content"].startswith("TASK:")


async def test_after_a_cut_off_the_retry_asks_for_what_fits_at_one_character_a_token():
    from logomesh_tui.conversation.session import CHARS_PER_TOKEN

    # 80 "words" of digits: past max_tokens (the fake backend streams a word per token).
    cut = '{"message_type": "analysis", "content": "' + " ".join(["1"] * 80)
    backend = FakeBackend("m", responder=[cut, GOOD])
    s = MultiModelSession(store=False, protocol="round-robin",
                          limits=ResourceLimits(max_rounds=1, max_tokens=64, temperature=0.2))
    await s.add_model("primary-analyzer", backend)
    result = await s.execute_collaborative_prompt("Review the component.")
    first, retry = backend.requests
    limit = first.json_schema["properties"]["content"]["maxLength"]
    assert retry.json_schema["properties"]["content"]["maxLength"] == max(
        16, int(limit / CHARS_PER_TOKEN))
    # The JSON around the content may take a token a character: the retry's budget grows by
    # the envelope's length, not the content's.
    envelope = len(json.dumps({"message_type": "analysis", "content": "", "references": [],
                               "confidence": 0.85}, separators=(",", ":")))
    assert first.max_tokens == 64 and retry.max_tokens == 64 + envelope
    notes = [e for e in s.events if isinstance(e, Note) and e.event == "retry"]
    assert notes[0].reason == "cut off at max_tokens" and not result.failures
