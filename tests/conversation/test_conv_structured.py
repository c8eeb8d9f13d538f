import json

from logomesh_tui.conversation.messages import MessageType as T
from logomesh_tui.conversation.structured import combine_confidence, parse_turn, turn_schema


def test_schema_enumerates_citable_ids_and_votes():
    s = turn_schema([T.PROPOSAL], ["m1", "m2"], vote_candidates=["m2"], max_content_chars=300)
    assert s["properties"]["references"]["items"]["enum"] == ["m1", "m2"]
    assert s["properties"]["vote"]["enum"] == ["m2"]
    assert "vote" in s["required"]
    assert s["properties"]["content"]["maxLength"] == 300
    empty = turn_schema([T.PROPOSAL], [])
    assert empty["properties"]["references"]["maxItems"] == 0


def test_parse_good_and_unusable_replies():
    ok = parse_turn(json.dumps({"message_type": "critique", "content": " fine ",
                                "references": ["m1"], "confidence": 0.8}), "stop",
                    [T.CRITIQUE])
    assert ok.ok and ok.content == "fine" and ok.references == ["m1"]
    assert ok.self_rating == 0.8
    assert parse_turn('{"message_type": "critique", "content": "cut', "length",
                      [T.CRITIQUE]).error == "cut off at max_tokens"
    # Closed on the last allowed token: complete, so usable despite "length".
    full = parse_turn(json.dumps({"message_type": "critique", "content": "done",
                                  "references": ["m1", "m1", "m2"], "confidence": 0.5}),
                      "length", [T.CRITIQUE])
    assert full.ok and full.references == ["m1", "m2"]
    assert "invalid JSON" in parse_turn("not json", "stop", [T.CRITIQUE]).error
    raw_newline = '{"message_type": "critique", "content": "two\nlines", "references": [], ' \
        '"confidence": 0.5}'
    assert parse_turn(raw_newline, "stop", [T.CRITIQUE]).content == "two\nlines"
    assert parse_turn(json.dumps({"message_type": "critique", "content": "  ",
                                  "references": [], "confidence": 1}), "stop",
                      [T.CRITIQUE]).error == "empty content"
    # A type the round does not allow is replaced, with a note, not thrown away.
    odd = parse_turn(json.dumps({"message_type": "question", "content": "x", "references": [],
                                 "confidence": 7}), "stop", [T.PROPOSAL])
    assert odd.ok and odd.message_type == T.PROPOSAL and odd.notes
    assert odd.self_rating == 0.7  # a 0..10 rating is rescaled


def test_confidence_combines_rating_and_token_probability():
    assert combine_confidence(0.8, 0.4) == 0.6
    assert combine_confidence(None, 0.3) == 0.3
    assert combine_confidence(0.9, None) == 0.9
    assert combine_confidence(None, None) == 0.5
    values = {combine_confidence(r, p) for r in (0.2, 0.6, 1.0) for p in (0.1, 0.5, 0.9)}
    assert len(values) >= 5  # it is never a constant


def test_confidence_is_a_short_enum_in_the_grammar():
    import llama_cpp.llama_grammar as lg

    s = turn_schema([T.PROPOSAL], ["m1"], vote_candidates=["m1"], max_content_chars=50)
    grammar = lg.json_schema_to_gbnf(json.dumps(s))
    line = next(x for x in grammar.splitlines() if x.startswith("confidence ::="))
    assert '"0.5"' in line and '"1"' in line and "[0-9]" not in line


def test_a_reply_that_copies_its_own_prompt_is_an_echo():
    from logomesh_tui.conversation.structured import repeats_prompt

    instruction = ("Your turn, documentation-writer. Round 4 - final review. Review the proposals, "
                   "state whether you agree and vote for one proposal: m5 by primary-analyzer.")
    task = "Please analyze this React component for:\n1. Performance bottlenecks"
    prompts = [task, instruction]
    assert repeats_prompt("Your turn, documentation-writer. Round 4 - final review.", prompts)
    assert repeats_prompt("1. Performance bottlenecks", prompts)
    # Casing, punctuation and a trailing word do not hide an echo.
    assert repeats_prompt("your turn documentation-writer round 4: final REVIEW -- review the "
                          "proposals; state whether you agree, yes", prompts)
    # Real contributions, even ones that quote a phrase of the prompt, are not echoes.
    assert not repeats_prompt("computeStats walks every order three times; compute the totals "
                              "in one pass with useMemo keyed on orders.", prompts)
    assert not repeats_prompt("I agree with m5: the single pass fixes the performance "
                              "bottlenecks without changing the output.", prompts)
    assert not repeats_prompt("Use useMemo.", prompts)  # too short to judge
    assert not repeats_prompt("anything at all here", [])
