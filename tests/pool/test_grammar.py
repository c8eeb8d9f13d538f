"""Structured turns are constrained to compact JSON: no spaces between tokens, so the JSON around
a reply's content costs a known, small number of tokens (the cause of cut-off turns on
smollm2-135m with 48-token replies)."""

from __future__ import annotations

import json

import pytest

from logomesh_tui import GenerationRequest, HotSwapEngine
from logomesh_tui.conversation.messages import MessageType
from logomesh_tui.conversation.structured import turn_schema
from logomesh_tui.pool.worker import compact_json_gbnf


def test_the_grammar_allows_no_whitespace_and_keeps_the_schema_order():
    schema = turn_schema([MessageType.ANALYSIS, MessageType.PROPOSAL], ["m1", "m2"],
                         vote_candidates=["m2"], max_content_chars=30)
    gbnf = compact_json_gbnf(schema)
    rules = dict(line.split(" ::= ", 1) for line in gbnf.splitlines())
    assert rules["space"] == '""'
    root = rules["root"]
    order = [root.index(k) for k in ("message-type-kv", "content-kv", "references-kv",
                                     "confidence-kv", "vote-kv")]
    assert order == sorted(order)


@pytest.mark.real
async def test_a_constrained_reply_is_compact_json(real_config):
    schema = turn_schema([MessageType.ANALYSIS], ["m1"], max_content_chars=60)
    request = GenerationRequest(
        messages=[{"role": "user", "content": "Say one thing about React keys, as JSON."}],
        max_tokens=64, temperature=0.7, seed=3, json_schema=schema)
    async with HotSwapEngine(real_config) as engine:
        await engine.load_model("smollm2-135m", "r")
        result = await engine.generate("r", request)
    data = json.loads(result.text)
    assert result.text == json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    assert list(data) == ["message_type", "content", "references", "confidence"]
