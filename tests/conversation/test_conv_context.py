"""Context fitting: windows respected, task and latest proposals kept, summaries, KV prefix."""

import json

from logomesh_tui.conversation import MultiModelSession, ResourceLimits
from logomesh_tui.conversation.context import PER_MESSAGE_OVERHEAD, PER_PROMPT_OVERHEAD
from logomesh_tui.pool.fake import FakeBackend

TASK = "TASK-MARKER: review the Dashboard component for wasted renders."


class Snooping(FakeBackend):
    """Remembers which messages existed when each structured request was made."""

    session: MultiModelSession | None = None

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.visible_at: list[list] = []

    async def generate(self, request, on_token=None):
        if request.json_schema is not None and self.session is not None:
            self.visible_at.append(list(self.session.bus.get_conversation_history()))
        return await super().generate(request, on_token)


def chatty(role_index: int):
    def responder(req, b):
        if req.json_schema is None:
            return "Earlier: m1 proposed memoising rows; critic disagreed."
        props = req.json_schema["properties"]
        types = props["message_type"]["enum"]
        # Role 0 keeps proposing, so "the latest proposal" moves as the talk goes on.
        mtype = "proposal" if role_index == 0 and "proposal" in types else types[0]
        refs = props["references"]["items"].get("enum", [])
        reply = {"message_type": mtype,
                 "content": f"role{role_index} turn {b.calls}: " + "details " * 30,
                 "references": refs[-2:], "confidence": 0.6}
        if "vote" in props:
            enum = props["vote"]["enum"]
            reply["vote"] = enum[role_index % len(enum)]
        return json.dumps(reply)
    return responder


def counted(messages) -> int:
    # FakeBackend counts len//4+1 per text; the builder adds the template overheads.
    return PER_PROMPT_OVERHEAD + sum(len(m["content"]) // 4 + 1 + PER_MESSAGE_OVERHEAD
                                     for m in messages)


async def run_long(summarize_with_model=True, n_ctx=900, rounds=15):
    limits = ResourceLimits(max_rounds=rounds, max_tokens=64, consensus_threshold=1.0)
    s = MultiModelSession(protocol="round-robin", store=False, limits=limits,
                          summarize_with_model=summarize_with_model)
    backends = []
    for i in range(4):
        b = Snooping(f"model-{i}", n_ctx=n_ctx, responder=chatty(i))
        b.session = s
        backends.append(b)
        await s.add_model(f"role-{i}", b)
    r = await s.execute_collaborative_prompt(TASK)
    return s, r, backends


async def test_sixty_messages_stay_within_every_window_and_keep_task_and_proposals():
    s, r, backends = await run_long()
    spoken = [m for m in r.messages if m.from_role != "human"]
    assert len(spoken) == 60 and not r.failures
    for b in backends:
        structured = [q for q in b.requests if q.json_schema is not None]
        assert len(structured) == len(b.visible_at) == 15
        for req, seen in zip(structured, b.visible_at, strict=True):
            assert counted(req.messages) <= b.n_ctx - 64
            text = "\n".join(m["content"] for m in req.messages)
            assert "TASK-MARKER" in text
            latest = {}
            for m in seen:
                if m.message_type.value == "proposal":
                    latest[m.from_role] = m
            for m in latest.values():
                # Others' proposals appear as "[m7] role ...", the role's own as its reply.
                assert f"[{m.short_id}]" in text or m.content[:40] in text, (b.model_id, m)
    summaries = [e for e in s.events if e.kind == "summary"]
    assert summaries and {e.method for e in summaries} == {"model"}
    assert all(e.covers for e in summaries)
    # The summarizer was asked with a plain (unconstrained) request that fits too.
    plain = [q for b in backends for q in b.requests if q.json_schema is None]
    assert plain and all(counted(q.messages) + q.max_tokens <= 900 for q in plain)


async def test_extractive_fallback_when_no_model_summary():
    s, r, _ = await run_long(summarize_with_model=False, rounds=8)
    methods = {e.method for e in s.events if e.kind == "summary"}
    assert methods == {"extractive"}
    assert not r.failures


async def test_prompts_are_append_only_while_they_fit():
    s, r, backends = await run_long(n_ctx=32768, rounds=4)
    assert not [e for e in s.events if e.kind == "summary"]
    for b in backends:
        reqs = [q.messages for q in b.requests if q.json_schema is not None]
        for before, after in zip(reqs, reqs[1:], strict=False):
            assert after[:len(before)] == before
            assert after[len(before)]["role"] == "assistant"


async def run_shared(n_ctx: int, rounds: int):
    """Four roles on one model (one backend object, as one shared worker serves them)."""
    limits = ResourceLimits(max_rounds=rounds, max_tokens=64, consensus_threshold=1.0)
    s = MultiModelSession(protocol="round-robin", store=False, limits=limits,
                          summarize_with_model=False)
    b = FakeBackend("same-model", n_ctx=n_ctx, responder=chatty(0))
    for i in range(4):
        await s.add_model(f"role-{i}", b)
    r = await s.execute_collaborative_prompt(TASK)
    return s, r, b


def _shared_part(req) -> str:
    [msg] = req.messages
    head, sep, _own = msg["content"].rpartition("\n\nYou are the role-")
    assert sep, "the role's own part comes last"
    return head


async def test_roles_on_one_model_extend_one_shared_transcript():
    s, r, b = await run_shared(n_ctx=32768, rounds=4)
    assert not r.failures
    reqs = [q for q in b.requests if q.json_schema is not None]
    assert len(reqs) == 16
    # Each role's prompt starts with everything the previous role's prompt had before its own
    # part: one cached prefix serves all four roles.
    for before, after in zip(reqs, reqs[1:], strict=False):
        assert _shared_part(after).startswith(_shared_part(before))
    # Everyone reads the same rendering: no "you" in the shared part, the speaker's name.
    last = _shared_part(reqs[-1])
    assert "] you (" not in last and "] role-0 (" in last and "] role-3 (" in last
    roles_in_order = [q.messages[0]["content"].rpartition("You are the ")[2].split(".")[0]
                      for q in reqs[:4]]
    assert roles_in_order == ["role-0", "role-1", "role-2", "role-3"]


async def test_a_shared_transcript_is_rebuilt_with_a_summary_and_stays_in_the_window():
    s, r, b = await run_shared(n_ctx=900, rounds=15)
    spoken = [m for m in r.messages if m.from_role != "human"]
    assert len(spoken) == 60 and not r.failures
    for q in b.requests:
        if q.json_schema is None:
            continue
        assert counted(q.messages) <= b.n_ctx - 64
        assert "TASK-MARKER" in q.messages[0]["content"]
    assert [e for e in s.events if e.kind == "summary"]
