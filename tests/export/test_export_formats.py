"""Export formats: records, quality ratings, preference pairs, metadata, loading with datasets."""

from __future__ import annotations

import json

import pytest
from datasets import load_dataset
from sessions_fixture import SessionBuilder, four_round_session, tied_session

from logomesh_tui.conversation.messages import MessageType
from logomesh_tui.errors import LogoMeshError
from logomesh_tui.export import (
    FORMATS,
    dpo_pairs,
    export_session,
    load_session,
    rate_messages,
    session_metadata,
)
from logomesh_tui.export.quality import WEIGHTS


def _read_jsonl(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_openai_chat_is_the_chat_each_model_saw(session, sessions_dir):
    report = export_session(session.session_id, "openai-chat", sessions_dir=sessions_dir)
    records = _read_jsonl(report.data_file)
    turns = [m for m in session.messages]
    assert len(records) == len(turns) == 13
    for rec, msg in zip(records, turns, strict=True):
        assert set(rec) == {"messages"}
        chat = rec["messages"]
        assert chat[-1]["role"] == "assistant"
        assert all(set(x) == {"role", "content"} for x in chat)
        assert all(x["role"] in ("system", "user", "assistant") for x in chat)
        reply = json.loads(chat[-1]["content"])
        assert reply["content"] == msg.content
        assert reply["message_type"] == msg.message_type.value
        if msg.prompt_messages is not None:
            assert chat[:-1] == msg.prompt_messages
    # The vote a turn carried is part of its structured reply, cited by short id.
    vote_reply = json.loads(records[9]["messages"][-1]["content"])
    assert vote_reply["vote"] == session.ids["s1"].short_id
    assert vote_reply["references"] == [session.ids["s1"].short_id]


def test_unrecorded_prompt_is_rebuilt_from_what_the_role_could_see(session, sessions_dir):
    view = load_session(session.session_id, sessions_dir)
    d1 = session.ids["d1"]
    records = _read_jsonl(export_session(view, "training-data").data_file)
    rec = next(r for r in records if r["id"] == d1.id)
    assert rec["prompt_reconstructed"] is True
    user = rec["prompt"][-1]["content"]
    assert session.task in user
    # Everything before d1 is visible to the documentation writer, nothing after it.
    for key in ("p1", "p2", "p3", "c1", "c2"):
        assert session.ids[key].content in user
    assert session.ids["a1"].content not in user


def test_sharegpt_maps_roles(session, sessions_dir):
    report = export_session(session.session_id, "sharegpt", sessions_dir=sessions_dir)
    records = _read_jsonl(report.data_file)
    assert len(records) == 13
    for rec in records:
        froms = [x["from"] for x in rec["conversations"]]
        assert froms[0] == "system" and froms[-1] == "gpt"
        assert set(froms) <= {"system", "human", "gpt"}


def test_quality_follows_the_documented_formula(session, sessions_dir):
    view = load_session(session.session_id, sessions_dir)
    ratings = rate_messages(view)
    s1, s2 = session.ids["s1"], session.ids["s2"]
    # s1: peers architecture-critic (0.9) and documentation-writer (0.7) backed it, the
    # optimization-specialist (0.6) backed s2; primary-analyzer's own vote does not count.
    votes = 1.6 / 2.2
    critiques = (1 + 2) / (2 + 2 + 0)  # cited by v1, v2 (built on), no critique
    expected = (WEIGHTS["votes"] * votes + WEIGHTS["critiques"] * critiques
                + WEIGHTS["confidence"] * 0.86 + WEIGHTS["compile"] * 1.0) / sum(WEIGHTS.values())
    assert ratings[s1.id].rating == pytest.approx(expected, abs=1e-4)
    assert ratings[s1.id].votes == pytest.approx(votes, abs=1e-4)
    # s2: no peer backed it and it failed to compile.
    assert ratings[s2.id].votes == 0.0
    assert ratings[s2.id].compile == 0.0
    assert ratings[s2.id].rating < 0.3 < ratings[s1.id].rating
    # p1 was critiqued once (c1) and built on once (d1): (1+1)/(2+1+1).
    p1 = ratings[session.ids["p1"].id]
    assert p1.critiques == pytest.approx(0.5)
    assert p1.votes is None and p1.compile is None
    assert p1.rating == pytest.approx((0.2 * 0.5 + 0.2 * 0.82) / 0.4, abs=1e-4)
    # Unmeasured components are dropped, not counted as zero.
    p3 = ratings[session.ids["p3"].id]
    assert p3.rating == pytest.approx(0.55)


def test_dpo_pairs_only_where_votes_separate(session, sessions_dir, tmp_path):
    view = load_session(session.session_id, sessions_dir)
    pairs = dpo_pairs(view)
    assert [(c.id, r.id) for c, r, _, _ in pairs] == [(session.ids["s1"].id,
                                                         session.ids["s2"].id)]
    report = export_session(view, "dpo")
    (rec,) = _read_jsonl(report.data_file)
    assert set(rec) == {"prompt", "chosen", "rejected"}
    assert rec["prompt"] == [{"role": "user", "content": session.task}]
    assert rec["chosen"] == [{"role": "assistant", "content": session.ids["s1"].content}]
    assert rec["rejected"] == [{"role": "assistant", "content": session.ids["s2"].content}]
    # A stricter margin than the vote gap yields nothing, and nothing is written.
    with pytest.raises(LogoMeshError, match="no two proposals by peer votes"):
        export_session(view, "dpo", name="strict", dpo_margin=0.9)
    assert not (tmp_path / "exports" / "strict").exists()


def test_tied_votes_give_no_preference_pair(tmp_path):
    b = tied_session(tmp_path / "s")
    view = load_session(b.session_id, tmp_path / "s")
    assert dpo_pairs(view) == []
    with pytest.raises(LogoMeshError, match="nothing to export"):
        export_session(view, "dpo")


def test_training_data_records_and_metadata(session, sessions_dir):
    report = export_session(session.session_id, "training-data", sessions_dir=sessions_dir)
    records = _read_jsonl(report.data_file)
    by_id = {r["id"]: r for r in records}
    d1 = by_id[session.ids["d1"].id]
    assert d1["model_id"] == "gemma-3-270m" and d1["after_swap"] is True
    assert sum(r["after_swap"] for r in records) == 1
    p1 = by_id[session.ids["p1"].id]
    assert p1["referenced_by"] == [session.ids["c1"].short_id, session.ids["d1"].short_id]
    assert by_id[session.ids["s1"].id]["votes_received"] == pytest.approx(1.6)
    for r in records:
        assert 0.0 <= r["quality"]["rating"] <= 1.0
        assert r["tokens_per_s"] == pytest.approx(r["completion_tokens"] / r["latency_s"],
                                                  abs=1e-2)

    meta = json.loads((report.folder / "metadata.json").read_text())
    assert meta["rounds_to_consensus"] == 4 and meta["final_consensus_score"] == 0.82
    assert [c["score"] for c in meta["consensus_by_round"]] == [0.27, 0.45, 0.5, 0.82]
    writers = {m["model_id"]: m for m in meta["models"] if m["role"] == "documentation-writer"}
    assert writers["smollm2-135m"]["failures"] == 1 and writers["smollm2-135m"]["swapped_out"] == 1
    assert writers["gemma-3-270m"]["turns"] == 2 and writers["gemma-3-270m"]["swapped_in"] == 1
    analyzer = next(m for m in meta["models"] if m["role"] == "primary-analyzer")
    # Four turns, prompts of 180 (first, all fresh) then 340, 460, 500 with 40 fresh each.
    assert analyzer["attempts"] == 4 and analyzer["mean_ttft_s"] == 0.25
    assert analyzer["kv_cache_reuse"] == pytest.approx(1 - (180 + 3 * 40) / analyzer[
        "prompt_tokens"], abs=1e-4)
    assert meta["collaboration"]["references"]["architecture-critic"]["primary-analyzer"] == 2
    assert meta["collaboration"]["critiques"] == 2
    (agreement,) = meta["collaboration"]["agreement_by_round"]
    assert agreement["leader"] == session.ids["s1"].short_id
    assert agreement["agreement"] == pytest.approx(2.5 / 3.1, abs=1e-4)
    assert len(meta["swaps"]) == 1 and len(meta["failures"]) == 1


def test_min_quality_filters_turns(session, sessions_dir):
    view = load_session(session.session_id, sessions_dir)
    ratings = rate_messages(view)
    keep = sum(1 for r in ratings.values() if r.rating >= 0.7)
    report = export_session(view, "openai-chat", min_quality=0.7)
    assert report.records == keep and 0 < keep < 13


def test_human_arbitration_is_not_a_model_turn(tmp_path):
    b = SessionBuilder(tmp_path / "s")
    p = b.post("primary-analyzer", "Do X.", MessageType.PROPOSAL, 1)
    b.models["human"] = ""
    b.post("human", "Arbitration: adopt m1.", MessageType.CONSENSUS, 1, refs=[p],
           record_prompt=False)
    view = load_session(b.session_id, tmp_path / "s")
    assert [m.from_role for m in view.model_turns()] == ["primary-analyzer"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_loads_with_datasets(session, sessions_dir, fmt):
    report = export_session(session.session_id, fmt, sessions_dir=sessions_dir, name=fmt)
    ds = load_dataset("json", data_files=str(report.data_file), split="train")
    assert ds.num_rows == report.records
    expected = {"openai-chat": {"messages"}, "sharegpt": {"conversations"},
                "dpo": {"prompt", "chosen", "rejected"}}.get(fmt)
    if expected is not None:
        assert set(ds.column_names) == expected
    else:
        assert {"prompt", "response", "quality", "role", "model_id"} <= set(ds.column_names)
    # The card's YAML header makes the folder itself loadable.
    folder_ds = load_dataset(str(report.folder), split="train")
    assert folder_ds.num_rows == report.records


def test_columns_match_trl_expectations(session, sessions_dir):
    """TRL's SFTTrainer takes conversational ``messages`` (lists of role/content with the last
    turn from the assistant); DPOTrainer takes ``prompt``/``chosen``/``rejected`` where, in the
    conversational form, prompt ends with a user turn and chosen/rejected are assistant turns.
    (tests/export/test_export_trl.py runs the real trainers when the ``train`` extra is in.)"""
    sft = load_dataset("json", data_files=str(export_session(
        session.session_id, "openai-chat", sessions_dir=sessions_dir, name="sft").data_file),
        split="train")
    item = sft.features["messages"].feature
    assert item["role"].dtype == "string" and item["content"].dtype == "string"
    for row in sft:
        assert row["messages"][-1]["role"] == "assistant"
        assert row["messages"][0]["role"] == "system"
    dpo = load_dataset("json", data_files=str(export_session(
        session.session_id, "dpo", sessions_dir=sessions_dir, name="dpo").data_file),
        split="train")
    for row in dpo:
        assert row["prompt"][-1]["role"] == "user"
        assert [m["role"] for m in row["chosen"]] == ["assistant"]
        assert [m["role"] for m in row["rejected"]] == ["assistant"]
        assert row["chosen"] != row["rejected"]


def test_session_metadata_counts_the_collaboration(session, sessions_dir):
    view = load_session(session.session_id, sessions_dir)
    meta = session_metadata(view)
    assert meta["protocol"] == "four-round" and meta["rounds_run"] == 4
    assert meta["collaboration"]["message_types"] == {"proposal": 5, "critique": 2,
                                                      "question": 1, "analysis": 1,
                                                      "consensus": 4}


def test_unknown_session_and_format_are_clear_errors(sessions_dir, tmp_path):
    four_round_session(sessions_dir)
    with pytest.raises(LogoMeshError, match="no session 'nope'"):
        export_session("nope", "dpo", sessions_dir=sessions_dir)
    with pytest.raises(LogoMeshError, match="unknown export format 'csv'"):
        export_session("20261125-120000-abc123", "csv", sessions_dir=sessions_dir)
    with pytest.raises(LogoMeshError, match="invalid session id"):
        export_session("../etc/passwd", "dpo", sessions_dir=sessions_dir)


def test_a_long_session_exports_every_turn_quickly(tmp_path):
    import time

    b = SessionBuilder(tmp_path / "s", session_id="20261125-140000-long00")
    roles = list(b.models)
    msgs = []
    for i in range(200):
        role = roles[i % 4]
        refs = [msgs[-1], msgs[-3]] if len(msgs) >= 3 else []
        mtype = [MessageType.PROPOSAL, MessageType.CRITIQUE, MessageType.ANALYSIS,
                 MessageType.QUESTION][i % 4]
        msgs.append(b.post(role, f"turn {i}", mtype, 1 + i // 8, refs=refs,
                           record_prompt=i % 2 == 0))
        if i % 8 == 7:
            for voter in msgs[-4:]:
                b.vote(voter, msgs[-8], 1 + i // 8)
    t0 = time.perf_counter()
    report = export_session(b.session_id, "training-data", sessions_dir=tmp_path / "s")
    assert report.records == 200
    assert time.perf_counter() - t0 < 10
