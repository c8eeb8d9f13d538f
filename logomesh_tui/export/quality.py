"""Quality ratings for each model turn, from what the session measured.

Four components, each in [0, 1]; a component the session did not measure for a message is
left out and the weights of the others are renormalised::

    rating = sum(w_i * s_i for measured i) / sum(w_i for measured i)

- ``votes`` (weight 0.4): peer approval share. For each voting round the *candidates* are the
  proposals voted for plus every other proposal from the same rounds as those. For a candidate
  m: ``(A - R) / W`` clipped to [0, 1], where A and R are the weights of approving and rejecting
  votes for m and W is the total weight of all votes cast in that round, each sum leaving out
  votes by m's own author. Averaged over the rounds in which m was a candidate. A proposal every
  peer backed scores 1; one nobody backed scores 0.
- ``critiques`` (0.2): how later messages treated m: ``(1 + b) / (2 + b + c)`` with b the number
  of later non-critique messages by other roles that cite m (they build on it) and c the number
  of critiques by other roles that cite it. Measured only when another role cited m.
- ``confidence`` (0.2): the message's own confidence (token probability and self-rating, see
  ``conversation/structured.py``); always measured.
- ``compile`` (0.2): 1 if the code in m compiled, 0 if it did not; measured where the code
  pipeline ran: ``meta["compile_ok"]`` or ``meta["compile"]["ok"]`` on the message, or a
  ``note`` event ``{"event": "compile", "message_id", "ok"}``.

A retried turn is rated like any other; a failed turn has no message and so no rating (failures
appear in the session metadata instead).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from ..conversation.messages import MessageType, Vote
from .view import SessionView

WEIGHTS = {"votes": 0.4, "critiques": 0.2, "confidence": 0.2, "compile": 0.2}


@dataclass
class VoteTally:
    """Peer votes for one candidate in one voting round."""

    round: int
    approve: float = 0.0
    reject: float = 0.0
    total: float = 0.0

    @property
    def share(self) -> float | None:
        if self.total <= 0:
            return None
        return min(1.0, max(0.0, (self.approve - self.reject) / self.total))


@dataclass
class QualityRating:
    """A message's rating and the components it was computed from (None: not measured)."""

    rating: float
    votes: float | None = None
    critiques: float | None = None
    confidence: float = 0.0
    compile: float | None = None
    tallies: list[VoteTally] = field(default_factory=list)

    def as_dict(self) -> dict[str, float | None]:
        return {"rating": self.rating, "votes": self.votes, "critiques": self.critiques,
                "confidence": self.confidence, "compile": self.compile}


def vote_tallies(view: SessionView) -> dict[str, list[VoteTally]]:
    """message id -> one tally per voting round in which it was a candidate."""
    by_round: dict[int, list[Vote]] = defaultdict(list)
    for vote in view.votes:
        by_round[vote.round].append(vote)
    out: dict[str, list[VoteTally]] = defaultdict(list)
    for rnd, votes in sorted(by_round.items()):
        targets = [t for t in (view.resolve(v.target_id) for v in votes) if t is not None]
        rounds = {t.round for t in targets}
        candidates = {t.id: t for t in targets}
        for m in view.messages:
            if m.message_type == MessageType.PROPOSAL and m.round in rounds:
                candidates.setdefault(m.id, m)
        for cand in candidates.values():
            tally = VoteTally(round=rnd)
            for v in votes:
                if v.voter == cand.from_role:
                    continue  # a role's vote for itself is not peer evidence
                weight = max(0.0, float(v.weight))
                tally.total += weight
                target = view.resolve(v.target_id)
                if target is not None and target.id == cand.id:
                    if v.approve:
                        tally.approve += weight
                    else:
                        tally.reject += weight
            out[cand.id].append(tally)
    return out


def _compile_results(view: SessionView) -> dict[str, bool]:
    out: dict[str, bool] = {}
    for note in view.notes:
        extra = note.model_extra or {}
        if note.event == "compile" and "message_id" in extra and "ok" in extra:
            target = view.resolve(str(extra["message_id"]))
            if target is not None:
                out[target.id] = bool(extra["ok"])
    for m in view.messages:
        if isinstance(m.meta.get("compile_ok"), bool):
            out[m.id] = m.meta["compile_ok"]
        elif isinstance(m.meta.get("compile"), dict) and isinstance(m.meta["compile"].get("ok"),
                                                                    bool):
            out[m.id] = m.meta["compile"]["ok"]
    return out


def rate_messages(view: SessionView) -> dict[str, QualityRating]:
    """Rate every message of the session (see the module docstring for the formula)."""
    tallies = vote_tallies(view)
    compiled = _compile_results(view)
    builds: dict[str, int] = defaultdict(int)
    critiques: dict[str, int] = defaultdict(int)
    for m in view.messages:
        for target_id in {t.id for t in (view.resolve(r) for r in m.references_to) if t}:
            target = view.by_id[target_id]
            if target.id == m.id or target.from_role == m.from_role:
                continue
            if m.message_type == MessageType.CRITIQUE:
                critiques[target.id] += 1
            else:
                builds[target.id] += 1
    ratings: dict[str, QualityRating] = {}
    for m in view.messages:
        shares = [s for s in (t.share for t in tallies.get(m.id, [])) if s is not None]
        parts: dict[str, float] = {"confidence": float(m.confidence)}
        if shares:
            parts["votes"] = sum(shares) / len(shares)
        b, c = builds.get(m.id, 0), critiques.get(m.id, 0)
        if b or c:
            parts["critiques"] = (1 + b) / (2 + b + c)
        if m.id in compiled:
            parts["compile"] = 1.0 if compiled[m.id] else 0.0
        total_w = sum(WEIGHTS[k] for k in parts)
        rating = sum(WEIGHTS[k] * v for k, v in parts.items()) / total_w
        ratings[m.id] = QualityRating(
            rating=round(rating, 4),
            votes=round(parts["votes"], 4) if "votes" in parts else None,
            critiques=round(parts["critiques"], 4) if "critiques" in parts else None,
            confidence=round(parts["confidence"], 4),
            compile=parts.get("compile"),
            tallies=tallies.get(m.id, []))
    return ratings
