"""Consensus: weighted support for proposals, a 0..1 score after every round, arbitration.

Each role backs at most one proposal at a time (its *standing support*):

- an explicit vote (voting rounds) backs the proposal voted for;
- a new proposal backs itself (its author's candidate, even when it builds on others);
- an analysis or consensus message that cites proposals backs the newest one it cites.

A critique or question leaves a role's standing support unchanged. Every role has a *voice
weight*: its role weight (from the scenario, default 1) times the confidence of the message
that set its support (for a role backing nothing: of its latest message; 0.5 before it spoke).
So an unsure "I agree" counts less than a sure one, and a confident dissenter more.

``score = voice weight behind the leading proposal / voice weight of all participating roles``

Roles that back nothing count in the denominator, so four equally sure roles each backing their
own proposal give 0.25 and a unanimous vote gives 1.0 whatever the confidences. The
conversation has converged when the score reaches the threshold; it is tied when two proposals
share the top weight.

Evidence and substance gate the weights: support for a proposal that failed verification
(:meth:`ConsensusTracker.record_verdict`) counts 0, and so does support for a *hollow* proposal
(:func:`hollow_reason`: role-play, or a repetition of a peer's message). A proposal with no
weight behind it never leads.
"""

from __future__ import annotations

import asyncio
import re
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from pydantic import BaseModel

from ..errors import LogoMeshError
from .messages import LLMMessage, MessageType, Vote
from .structured import repeats_prompt

EPS = 1e-9
# Openings of a message that plays a part instead of saying something about the task.
_ROLE_PLAY_RE = re.compile(
    r"^\W*(?:hi|hello|greetings|sure|okay|ok)?\W*(?:(?:i am|i'm|you are|you're) "
    r"(?:a|an|the|your|our) (?:[\w-]+ ){0,3}?(?:project manager|manager|ux designer|designer|"
    r"assistant|ai|language model|team ?lead|product owner|stakeholder|expert|specialist|"
    r"developer|engineer|writer|critic|analy[sz]er)\b)", re.I)


def hollow_reason(message: LLMMessage, earlier: list[LLMMessage]) -> str | None:
    """Why ``message`` has no substance of its own, or None.

    Role-play (an opening such as "I am a project manager, you are a UX designer") and a
    repetition of a peer's earlier message (most of its word 4-grams already in it) are
    hollow. A message that carries an artifact has substance: its code is judged instead.
    """
    if message.artifact is not None:
        return None
    text = message.content.strip()
    if _ROLE_PLAY_RE.match(text):
        return "role-play"
    for m in earlier:
        if m.from_role != message.from_role and m.from_role not in ("human", "system") \
                and repeats_prompt(text, [m.content]):
            return f"repeats {m.short_id or m.id}"
    return None


@dataclass
class Candidate:
    """A proposal and the weight behind it."""

    message: LLMMessage
    weight: float = 0.0
    backers: list[str] = field(default_factory=list)


@dataclass
class ConsensusState:
    """Result of scoring the conversation after a round."""

    score: float
    candidates: list[Candidate]
    tied: bool
    total_weight: float

    @property
    def leader(self) -> Candidate | None:
        return self.candidates[0] if self.candidates else None


class ConsensusTracker:
    """Keeps each role's standing support and scores it."""

    def __init__(self, role_weights: dict[str, float] | None = None, threshold: float = 0.75):
        if not 0 < threshold <= 1:
            raise LogoMeshError(f"consensus threshold must be in (0, 1], got {threshold}")
        self.role_weights = dict(role_weights or {})
        self.threshold = threshold
        self.support: dict[str, tuple[str, float]] = {}  # role -> (proposal id, weight)
        self.voice: dict[str, float] = {}  # role -> weight of its latest message
        self.proposals: dict[str, LLMMessage] = {}
        self.votes: list[Vote] = []
        self.verdicts: dict[str, bool] = {}  # proposal id -> passed verification
        self.hollow: dict[str, str] = {}  # message id -> why it has no substance
        self._seen: list[LLMMessage] = []

    def record_verdict(self, proposal_id: str, passed: bool) -> None:
        """The verifier's verdict on a proposal: support for a failing one counts 0."""
        self.verdicts[proposal_id] = passed

    def effective(self, proposal_id: str, weight: float) -> float:
        """A backer's weight as it counts for ``proposal_id`` (0 for failing or hollow ones)."""
        if self.verdicts.get(proposal_id) is False or proposal_id in self.hollow:
            return 0.0
        return weight

    def weight_of(self, role: str) -> float:
        return max(0.0, self.role_weights.get(role, 1.0))

    def observe(self, message: LLMMessage) -> None:
        """Update standing support from a posted message (votes come via :meth:`add_vote`)."""
        role = message.from_role
        if message.message_type == MessageType.EVIDENCE:
            # The verifier's verdict on the candidates it references; it is not a voter.
            if message.evidence is not None:
                for ref in message.references_to:
                    self.record_verdict(ref, bool(message.evidence.get("passed")))
            return
        reason = hollow_reason(message, self._seen)
        if reason is not None:
            self.hollow[message.id] = reason
        self._seen.append(message)
        if message.message_type == MessageType.PROPOSAL:
            self.proposals[message.id] = message
        if role in ("human", "system"):
            return
        self.voice[role] = self.weight_of(role) * message.confidence
        if message.message_type in (MessageType.CRITIQUE, MessageType.QUESTION):
            return
        weight = self.weight_of(role) * message.confidence
        if message.message_type == MessageType.PROPOSAL:
            # A new proposal (even one building on others) is its author's candidate.
            self.support[role] = (message.id, weight)
            return
        cited = [r for r in message.references_to if r in self.proposals]
        if cited:
            self.support[role] = (cited[-1], weight)

    def add_vote(self, vote: Vote) -> None:
        """An explicit vote replaces the voter's standing support."""
        self.votes.append(vote)
        if vote.approve and vote.target_id in self.proposals:
            self.support[vote.voter] = (vote.target_id, vote.weight)
        else:
            self.support.pop(vote.voter, None)

    def make_vote(self, message: LLMMessage, target_id: str, round_index: int) -> Vote:
        return Vote(voter=message.from_role, target_id=target_id, round=round_index,
                    weight=round(self.weight_of(message.from_role) * message.confidence, 4),
                    rationale=message.content[:200])

    def score(self, participants: list[str]) -> ConsensusState:
        """Score the standing support of ``participants`` (roles that left are not counted)."""
        total = sum(self.support[r][1] if r in self.support
                    else self.voice.get(r, 0.5 * self.weight_of(r)) for r in participants)
        tally: dict[str, Candidate] = {}
        for role in participants:
            if role not in self.support:
                continue
            pid, weight = self.support[role]
            weight = self.effective(pid, weight)
            if weight <= 0:
                continue
            cand = tally.setdefault(pid, Candidate(self.proposals[pid]))
            cand.weight += weight
            cand.backers.append(role)
        # Ties on weight go to the earlier proposal, so ordering is deterministic.
        order = {pid: i for i, pid in enumerate(self.proposals)}
        cands = sorted(tally.values(), key=lambda c: (-c.weight, order[c.message.id]))
        score = cands[0].weight / total if cands and total > 0 else 0.0
        tied = len(cands) > 1 and abs(cands[0].weight - cands[1].weight) < EPS
        return ConsensusState(round(min(1.0, score), 4), cands, tied, total)

    def converged(self, state: ConsensusState, electorate: int = 2) -> bool:
        """Score at the threshold, no tie, and (with two or more voters) the leading proposal
        backed by at least two roles: a role backing only its own idea is not agreement."""
        if state.score + EPS < self.threshold or state.tied or state.leader is None:
            return False
        return electorate < 2 or len(state.leader.backers) >= 2


class ArbitrationDecision(BaseModel):
    """What a person (or a headless policy) decided when the models did not agree."""

    choice_id: str
    decided_by: str  # "human" or "policy:<name>"
    policy: str
    reason: str = ""


ArbitrationCallback = Callable[[ConsensusState, str], Awaitable[ArbitrationDecision]]
"""async (state, reason) -> decision. ``reason`` says why: no consensus or a tie."""


def _all_candidates(state: ConsensusState, proposals: list[LLMMessage]) -> list[Candidate]:
    seen = {c.message.id for c in state.candidates}
    return state.candidates + [Candidate(p) for p in proposals if p.id not in seen]


def highest_score_policy() -> ArbitrationCallback:
    """Pick the proposal with the most weight; ties go to the more confident, then earlier one."""

    async def decide(state: ConsensusState, reason: str) -> ArbitrationDecision:
        if not state.candidates:
            raise LogoMeshError("nothing to arbitrate: no proposal was made")
        top = state.candidates[0].weight
        tied = [c for c in state.candidates if abs(c.weight - top) < EPS]
        best = max(tied, key=lambda c: c.message.confidence)
        return ArbitrationDecision(
            choice_id=best.message.id, decided_by="policy:highest-score",
            policy="highest-score",
            reason=f"{reason}; picked {best.message.short_id} (weight {best.weight:.2f}, "
                   f"confidence {best.message.confidence:.2f})")

    return decide


def first_policy() -> ArbitrationCallback:
    """Pick the earliest proposal among those with any support (or the earliest at all)."""

    async def decide(state: ConsensusState, reason: str) -> ArbitrationDecision:
        if not state.candidates:
            raise LogoMeshError("nothing to arbitrate: no proposal was made")
        first = min(state.candidates, key=lambda c: c.message.timestamp)
        return ArbitrationDecision(choice_id=first.message.id, decided_by="policy:first",
                                   policy="first",
                                   reason=f"{reason}; picked the first proposal "
                                          f"{first.message.short_id}")

    return decide


def ask_policy(input_fn: Callable[[str], str] = input,
               print_fn: Callable[[str], None] | None = None) -> ArbitrationCallback:
    """Ask the person at the terminal to choose. Falls back to highest-score without a TTY."""
    fallback = highest_score_policy()

    async def decide(state: ConsensusState, reason: str) -> ArbitrationDecision:
        if input_fn is input and not sys.stdin.isatty():
            d = await fallback(state, reason + "; no terminal to ask")
            return d
        out = print_fn or (lambda s: print(s, flush=True))
        out(f"The models did not agree ({reason}). Choose the proposal to adopt:")
        for i, c in enumerate(state.candidates, 1):
            text = c.message.content.replace("\n", " ")
            out(f"  {i}. {c.message.short_id} by {c.message.from_role} "
                f"(weight {c.weight:.2f}): {text[:160]}")
        while True:
            answer = (await asyncio.to_thread(input_fn, f"number 1-{len(state.candidates)}: "))
            answer = answer.strip().lower()
            for i, c in enumerate(state.candidates, 1):
                if answer in (str(i), c.message.short_id):
                    return ArbitrationDecision(choice_id=c.message.id, decided_by="human",
                                               policy="ask",
                                               reason=f"{reason}; chosen at the terminal")
            out(f"'{answer}' is not one of 1-{len(state.candidates)}")

    return decide


ARBITRATION_POLICIES: dict[str, Callable[[], ArbitrationCallback]] = {
    "highest-score": highest_score_policy,
    "first": first_policy,
    "ask": ask_policy,
}


def arbitration_policy(name: str) -> ArbitrationCallback:
    """The headless arbitration callback named ``name``."""
    if name not in ARBITRATION_POLICIES:
        raise LogoMeshError(f"unknown arbitration policy {name!r}; choose one of: "
                            f"{', '.join(ARBITRATION_POLICIES)}")
    return ARBITRATION_POLICIES[name]()


def candidates_with_unbacked(state: ConsensusState,
                             proposals: list[LLMMessage]) -> ConsensusState:
    """``state`` with every proposal listed (unbacked ones at weight 0), for arbitration."""
    return ConsensusState(state.score, _all_candidates(state, proposals), state.tied,
                          state.total_weight)
