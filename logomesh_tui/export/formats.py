"""Record builders for each export format. Each returns plain JSON-ready dicts.

- ``openai-chat``: ``{"messages": [...]}`` per model turn: the exact chat that model saw (system
  prompt and context, as recorded in ``LLMMessage.prompt_messages``) and its reply. This is the
  conversational format TRL's ``SFTTrainer`` takes.
- ``sharegpt``: the same turns as ``{"conversations": [{"from": "system"|"human"|"gpt",
  "value": ...}]}``.
- ``dpo``: ``{"prompt", "chosen", "rejected"}`` in TRL's conversational preference format
  (lists of ``{"role", "content"}``): from an evidence session, one pair per candidate that
  passed verification and one that failed, written for the same prompt; otherwise one pair per
  two proposals that peers' votes separate.
- ``training-data``: one rich record per model turn (prompt, response, quality rating and its
  components, references both ways, tokens, latency, tokens/s, the model behind the role and
  whether it had just been swapped in) plus a session-level metadata document.

The reply of a turn is by default the structured JSON the model was asked to produce
(``message_type``, ``content``, ``references``, ``confidence`` and ``vote`` where it voted);
``content_only=True`` keeps only the prose.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from itertools import combinations
from typing import Any

from ..conversation.messages import LLMMessage, MessageType
from ..sessions.events import Event, MessagePosted, Swap, TurnMetrics
from .quality import WEIGHTS, QualityRating, rate_messages, vote_tallies
from .view import SessionView

FORMATS = ("training-data", "openai-chat", "sharegpt", "dpo")
DEFAULT_DPO_MARGIN = 0.25
_SHAREGPT_FROM = {"system": "system", "user": "human", "assistant": "gpt"}


def _short(view: SessionView, ref: str) -> str:
    m = view.resolve(ref)
    return (m.short_id or m.id) if m is not None else ref


def _voted_for(view: SessionView, m: LLMMessage) -> str | None:
    """The short id this turn voted for: the vote that names this message as its carrier,
    or (older sessions) the voter's approving vote in the same round."""
    for v, carrier in zip(view.votes, view.vote_message_ids, strict=True):
        if carrier == m.id or (carrier is None and v.voter == m.from_role
                               and v.round == m.round and v.approve):
            return _short(view, v.target_id)
    return None


def response_text(view: SessionView, m: LLMMessage, content_only: bool = False) -> str:
    """What the model replied in this turn."""
    if content_only:
        return m.content
    raw = m.meta.get("raw")
    if isinstance(raw, str) and raw.strip():
        return raw
    reply: dict[str, Any] = {
        "message_type": str(m.message_type),
        "content": m.content,
        "references": [_short(view, r) for r in m.references_to],
        "confidence": m.self_rating if m.self_rating is not None else m.confidence,
    }
    vote = _voted_for(view, m)
    if vote is not None:
        reply["vote"] = vote
    return json.dumps(reply, ensure_ascii=False)


def reconstructed_prompt(view: SessionView, m: LLMMessage) -> list[dict[str, str]]:
    """A faithful-as-possible chat for sessions that did not record ``prompt_messages``:
    the role instructions, the task, and the messages visible to the role before this one."""
    earlier = []
    for other in view.messages:
        if other.id == m.id:
            break
        if other.is_visible_to(m.from_role):
            tag = other.short_id or other.id
            earlier.append(f"[{tag}] {other.from_role} ({other.message_type}): {other.content}")
    system = (f"You are the {m.from_role} in a structured conversation among several models. "
              "Reply with JSON: message_type, content, references (ids you build on), "
              "confidence (0-1).")
    user = f"Task:\n{view.task or view.prompt}"
    if earlier:
        user += "\n\nConversation so far:\n" + "\n".join(earlier)
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


def prompt_for(view: SessionView, m: LLMMessage) -> tuple[list[dict[str, str]], bool]:
    """(chat the model saw, whether it had to be reconstructed)."""
    if m.prompt_messages:
        chat = [{"role": str(x.get("role", "user")), "content": str(x.get("content", ""))}
                for x in m.prompt_messages]
        return chat, False
    return reconstructed_prompt(view, m), True


def _rated_turns(view: SessionView, min_quality: float | None
                 ) -> list[tuple[LLMMessage, QualityRating]]:
    """The model turns rated at least ``min_quality`` (all of them when None), with ratings."""
    ratings = rate_messages(view)
    return [(m, ratings[m.id]) for m in view.model_turns()
            if min_quality is None or ratings[m.id].rating >= min_quality]


def openai_chat_records(view: SessionView, *, content_only: bool = False,
                        min_quality: float | None = None) -> list[dict[str, Any]]:
    out = []
    for m, _ in _rated_turns(view, min_quality):
        chat, _ = prompt_for(view, m)
        chat.append({"role": "assistant", "content": response_text(view, m, content_only)})
        out.append({"messages": chat})
    return out


def sharegpt_records(view: SessionView, *, content_only: bool = False,
                     min_quality: float | None = None) -> list[dict[str, Any]]:
    return [{"conversations": [{"from": _SHAREGPT_FROM.get(x["role"], "human"),
                                "value": x["content"]} for x in rec["messages"]]}
            for rec in openai_chat_records(view, content_only=content_only,
                                           min_quality=min_quality)]


def dpo_pairs(view: SessionView, margin: float = DEFAULT_DPO_MARGIN
              ) -> list[tuple[LLMMessage, LLMMessage, float, int]]:
    """(chosen, rejected, share difference, voting round) for every pair of candidates in a
    voting round whose peer approval shares differ by at least ``margin`` and where the chosen
    one has some approval. Pairs of one role's own proposals across rounds are not formed."""
    tallies = vote_tallies(view)
    by_round: dict[int, dict[str, float]] = defaultdict(dict)
    approved: dict[tuple[int, str], float] = {}
    for mid, ts in tallies.items():
        for t in ts:
            if t.share is not None:
                by_round[t.round][mid] = t.share
                approved[(t.round, mid)] = t.approve
    msgs = view.by_id
    pairs = []
    for rnd, shares in sorted(by_round.items()):
        ordered = sorted(shares, key=lambda mid: (-shares[mid], view.messages.index(msgs[mid])))
        for a, b in combinations(ordered, 2):
            diff = shares[a] - shares[b]
            if diff + 1e-9 >= margin and approved[(rnd, a)] > 0:
                pairs.append((msgs[a], msgs[b], round(diff, 4), rnd))
    return pairs


def verdicts(view: SessionView) -> dict[str, bool]:
    """Proposal id -> whether the verifier passed it (from the session's evidence messages)."""
    out: dict[str, bool] = {}
    for m in view.messages:
        if m.message_type == MessageType.EVIDENCE and m.evidence is not None:
            for ref in m.references_to:
                out[ref] = bool(m.evidence.get("passed"))
    return out


def evidence_pairs(view: SessionView) -> list[tuple[LLMMessage, LLMMessage, list[dict[str, str]]]]:
    """(passing, failing, prompt) for every two code candidates for one file in one evidence
    round (one task) of which the verifier passed one and failed the other, whatever the
    votes said.

    The prompt is the one the failing candidate was written for: the task, in the wording
    (framing) that coder saw; without a recorded prompt, the session's task. Every framing asks
    for the same thing, the file in one code block, so the passing file is a right answer to it
    too, a repair included (its own prompt carried the verifier's facts, so a repair is only
    ever the chosen side)."""
    passed = verdicts(view)
    groups: dict[tuple[str, int, str], list[LLMMessage]] = defaultdict(list)
    for m in view.messages:
        if m.message_type != MessageType.PROPOSAL or m.artifact is None or m.id not in passed:
            continue
        groups[(m.conversation_id, m.round, m.artifact.path)].append(m)
    pairs = []
    for members in groups.values():
        good = [m for m in members if passed[m.id]]
        bad = [m for m in members if not passed[m.id]]
        for b in bad:
            prompt = _candidate_prompt(view, b)
            if prompt is None:
                continue
            for g in good:
                if g.artifact is not None and b.artifact is not None \
                        and g.artifact.text.strip() != b.artifact.text.strip():
                    pairs.append((g, b, prompt))
    return pairs


def _candidate_prompt(view: SessionView, m: LLMMessage) -> list[dict[str, str]] | None:
    """The chat a first-try candidate was written for, else the task (a repair's recorded
    chat carried the verifier's facts, so a failing repair is not a rejected answer)."""
    if m.prompt_messages:
        return [{"role": str(x.get("role", "user")), "content": str(x.get("content", ""))}
                for x in m.prompt_messages]
    if m.references_to:
        return None
    return [{"role": "user", "content": view.task or view.prompt}]


def code_reply(m: LLMMessage) -> str:
    assert m.artifact is not None
    return f"```{m.artifact.language}\n{m.artifact.text.rstrip()}\n```"


def dpo_records(view: SessionView, *, margin: float = DEFAULT_DPO_MARGIN,
                content_only: bool = True) -> list[dict[str, Any]]:
    """Preference pairs. Code candidates judged by the verifier pair a passing with a failing
    answer to the same prompt (the chat the coder saw; the completion is the code block it
    wrote). Other proposals pair by peer votes: the prompt is the task all candidates answered;
    the completions are the proposals' text (``content_only=False`` gives their structured JSON
    instead)."""
    out = []
    for chosen, rejected, prompt in evidence_pairs(view):
        out.append({"prompt": prompt,
                    "chosen": [{"role": "assistant", "content": code_reply(chosen)}],
                    "rejected": [{"role": "assistant", "content": code_reply(rejected)}]})
    for chosen, rejected, _diff, _rnd in dpo_pairs(view, margin):
        if chosen.artifact is not None or rejected.artifact is not None:
            continue
        out.append({
            "prompt": [{"role": "user", "content": view.task or view.prompt}],
            "chosen": [{"role": "assistant",
                        "content": response_text(view, chosen, content_only)}],
            "rejected": [{"role": "assistant",
                          "content": response_text(view, rejected, content_only)}],
        })
    return out


def _with_time(event: Event) -> dict[str, Any]:
    return {**event.payload(), "at": event.at.isoformat()}


def _model_at_turn(view: SessionView) -> dict[str, bool]:
    """message id -> whether it is the first turn of a model swapped into its role."""
    pending: dict[str, str] = {}
    first_after: dict[str, bool] = {}
    for event in view.events:
        if isinstance(event, Swap):
            pending[event.role] = event.new_model_id
        elif isinstance(event, MessagePosted):
            m = event.message
            if m.from_role in pending and m.model_id == pending[m.from_role]:
                first_after[m.id] = True
                del pending[m.from_role]
    return first_after


def training_data_records(view: SessionView, *, content_only: bool = False,
                          min_quality: float | None = None) -> list[dict[str, Any]]:
    """One record per model turn: prompt-response pair, rating, and measurements."""
    cited_by = view.referenced_by()
    swapped = _model_at_turn(view)
    out = []
    for m, q in _rated_turns(view, min_quality):
        chat, rebuilt = prompt_for(view, m)
        gen_s = float(m.latency_s)
        out.append({
            "id": m.id,
            "short_id": m.short_id or m.id,
            "session_id": view.session_id,
            "round": int(m.round),
            "role": m.from_role,
            "model_id": m.model_id,
            "message_type": str(m.message_type),
            "prompt": chat,
            "prompt_reconstructed": rebuilt,
            "response": response_text(view, m, content_only),
            "content": m.content,
            "references": [_short(view, r) for r in m.references_to],
            "referenced_by": [_short(view, r) for r in cited_by.get(m.id, [])],
            "recipients": list(m.recipients),
            "quality": {k: (float(v) if v is not None else None) for k, v in q.as_dict().items()},
            "votes_received": float(sum(t.approve for t in q.tallies)),
            "confidence": float(m.confidence),
            "self_rating": float(m.self_rating) if m.self_rating is not None else None,
            "token_confidence": (float(m.token_confidence)
                                 if m.token_confidence is not None else None),
            "prompt_tokens": int(m.prompt_tokens),
            "completion_tokens": int(m.completion_tokens),
            "latency_s": float(round(gen_s, 4)),
            "tokens_per_s": float(round(m.completion_tokens / gen_s, 3)) if gen_s > 0 else 0.0,
            "after_swap": bool(swapped.get(m.id, False)),
            "timestamp": m.timestamp.isoformat(),
        })
    return out


def _agreement(view: SessionView) -> list[dict[str, Any]]:
    """Per voting round: share of vote weight that went to the most backed proposal."""
    by_round: dict[int, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    totals: dict[int, float] = defaultdict(float)
    for v in view.votes:
        target = view.resolve(v.target_id)
        totals[v.round] += max(0.0, v.weight)
        if v.approve and target is not None:
            by_round[v.round][target.id] += max(0.0, v.weight)
    out = []
    for rnd in sorted(totals):
        # max keeps the first of equal weights, as Counter.most_common did.
        top = max(by_round[rnd].items(), key=lambda kv: kv[1], default=None)
        share = top[1] / totals[rnd] if top and totals[rnd] > 0 else 0.0
        out.append({"round": rnd, "votes": sum(1 for v in view.votes if v.round == rnd),
                    "leader": _short(view, top[0]) if top else None,
                    "agreement": round(share, 4)})
    return out


def session_metadata(view: SessionView) -> dict[str, Any]:
    """Session-level metadata: each model's performance and how the roles collaborated."""
    ratings = rate_messages(view)
    turns = view.model_turns()
    per_model: dict[tuple[str, str], dict[str, Any]] = {}
    for m in turns:
        key = (m.from_role, m.model_id)
        row = per_model.setdefault(key, {"role": m.from_role, "model_id": m.model_id,
                                         "turns": 0, "failures": 0, "prompt_tokens": 0,
                                         "completion_tokens": 0, "latency_s": 0.0,
                                         "ratings": []})
        row["turns"] += 1
        row["prompt_tokens"] += m.prompt_tokens
        row["completion_tokens"] += m.completion_tokens
        row["latency_s"] += m.latency_s
        row["ratings"].append(ratings[m.id].rating)
    for f in view.failures:
        key = (f.role, f.model_id)
        row = per_model.setdefault(key, {"role": key[0], "model_id": key[1], "turns": 0,
                                         "failures": 0, "prompt_tokens": 0,
                                         "completion_tokens": 0, "latency_s": 0.0,
                                         "ratings": []})
        row["failures"] += 1
    attempts: dict[tuple[str, str], list[TurnMetrics]] = defaultdict(list)
    for tm in view.turn_metrics:
        attempts[(tm.role, tm.model_id)].append(tm)
    models = []
    for key, row in per_model.items():
        tms = attempts.get(key, [])
        ttfts = [t.ttft_s for t in tms if t.ttft_s is not None]
        prompt = sum(t.prompt_tokens for t in tms)
        fresh = sum(t.prompt_tokens_evaluated for t in tms
                    if t.prompt_tokens_evaluated is not None)
        row["attempts"] = len(tms)
        row["mean_ttft_s"] = round(sum(ttfts) / len(ttfts), 4) if ttfts else None
        # Share of prompt tokens llama.cpp served from its KV cache (append-only prompts).
        row["kv_cache_reuse"] = (round(1 - fresh / prompt, 4) if prompt and any(
            t.prompt_tokens_evaluated is not None for t in tms) else None)
        lat = row.pop("latency_s")
        rs = row.pop("ratings")
        row["mean_latency_s"] = round(lat / row["turns"], 4) if row["turns"] else None
        row["tokens_per_s"] = round(row["completion_tokens"] / lat, 3) if lat > 0 else None
        row["mean_rating"] = round(sum(rs) / len(rs), 4) if rs else None
        row["swapped_in"] = sum(1 for s in view.swaps if s.role == row["role"]
                                and s.new_model_id == row["model_id"])
        row["swapped_out"] = sum(1 for s in view.swaps if s.role == row["role"]
                                 and s.old_model_id == row["model_id"])
        models.append(row)
    refs: dict[str, Counter] = defaultdict(Counter)
    for m in view.messages:
        for r in m.references_to:
            target = view.resolve(r)
            if target is not None and target.id != m.id:
                refs[m.from_role][target.from_role] += 1
    scores = [{"round": c.round, "score": c.score} for c in view.consensus]
    finished = view.finished
    converged_round = None
    if finished is not None and finished.converged:
        converged_round = finished.rounds_run or view.rounds_run()
    type_counts = Counter(str(m.message_type) for m in turns)
    return {
        "session_id": view.session_id,
        "prompt": view.prompt,
        "protocol": view.protocol,
        "participants": view.participants,
        "limits": view.limits,
        "rounds_run": view.rounds_run(),
        "finished": view.finished is not None,
        "final_consensus_score": (finished.consensus_score
                                  if finished is not None and finished.consensus_score is not None
                                  else (scores[-1]["score"] if scores else None)),
        "rounds_to_consensus": converged_round,
        "consensus_by_round": scores,
        "models": models,
        "collaboration": {
            "references": {src: dict(dst) for src, dst in refs.items()},
            "message_types": dict(type_counts),
            "critiques": type_counts.get(MessageType.CRITIQUE.value, 0),
            "agreement_by_round": _agreement(view),
            "arbitrations": [a.payload() for a in view.arbitrations],
        },
        "swaps": [_with_time(s) for s in view.swaps],
        "failures": [_with_time(f) for f in view.failures],
        "quality_formula": {"weights": WEIGHTS,
                            "doc": "rating = weighted mean of the measured components; see "
                                   "logomesh_tui/export/quality.py"},
        "read": {"torn_tail_ignored": view.torn_tail, "bad_lines_skipped": view.bad_lines,
                 "unreadable_messages": view.skipped_messages},
    }
