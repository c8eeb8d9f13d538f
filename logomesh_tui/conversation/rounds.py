"""RoundLoop: a session's rounds, from the protocol's plan to the final answer.

Each round runs its speakers (together on one snapshot of the history, or in turn, or through
a program such as ``evidence``), then consensus is scored; the loop stops at the round limit,
when the protocol has no more rounds, on convergence (not before ``min_rounds``) or at the
token limit. Without consensus the arbitration policy picks among the proposals.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from ..sessions import events as ev
from .consensus import (
    ArbitrationDecision,
    ConsensusState,
    arbitration_policy,
    candidates_with_unbacked,
)
from .context import ContextBuilder
from .messages import LLMMessage, MessageType
from .protocols import RoundPlan, program_runner

if TYPE_CHECKING:
    from .session import CollaborativeResponse, MultiModelSession


class RoundLoop:
    """Runs the rounds of ``session`` and writes its outcome."""

    def __init__(self, session: MultiModelSession) -> None:
        self._session = session

    def max_rounds(self) -> int:
        s = self._session
        return s.limits.max_rounds or s.protocol.default_rounds

    def _voters(self) -> int:
        s = self._session
        return len(s.protocol.electorate(s.roles()))

    async def run(self, start_round: int) -> CollaborativeResponse:
        s = self._session
        s.running = True
        s.context = s.context or ContextBuilder(
            s.task_text(), s.roles, s.role_instructions, s.summarizer,
            models=s.seating.role_models)
        s.turns.semaphore = asyncio.Semaphore(
            s.limits.concurrency or s.config.concurrency_limit())
        stopped = "round limit"
        state: ConsensusState | None = None
        try:
            for r in range(start_round, self.max_rounds() + 1):
                plan = s.protocol.plan(r, s.roles())
                if plan is None:
                    stopped = "protocol finished"
                    break
                await self.run_round(plan)
                state = self.score_round(r)
                if s.tracker.converged(state, self._voters()) and r >= s.limits.min_rounds:
                    stopped = "converged"
                    break
                if s.limits.max_total_tokens and s.total_tokens >= s.limits.max_total_tokens:
                    stopped = "token limit"
                    break
            if state is None:
                state = s.tracker.score(s.protocol.electorate(s.roles()))
            return await self.finish(state, stopped)
        finally:
            s.running = False
            if s.engine is not None and hasattr(s.engine, "remove_listener"):
                # One engine outlives many sessions (the dashboard): do not leak listeners.
                s.engine.remove_listener(s.seating.on_pool_event)

    async def run_round(self, plan: RoundPlan) -> None:
        s = self._session
        r = plan.index
        speakers = [x for x in plan.speakers if x in s.active_models and (r, x) not in s._done]
        if r not in s.started_rounds:
            s._record(ev.Note(event="round_started", round=r, name=plan.name,
                              speakers=list(plan.speakers)))
            s.started_rounds.add(r)
        if plan.program:
            await program_runner(plan.program)(s, plan, speakers)
            s.rounds_run = max(s.rounds_run, r)
            return
        if plan.concurrent:
            # Everyone answers the same state: the messages that existed when the round began.
            snapshot = {m.id for m in s.bus.get_conversation_history(s.conversation_id)}
            await asyncio.gather(*(s.turns.turn(role, plan, snapshot) for role in speakers))
        else:
            for role in speakers:
                await s.turns.turn(role, plan, None)
        s.rounds_run = max(s.rounds_run, r)

    def score_round(self, r: int) -> ConsensusState:
        s = self._session
        state = s.tracker.score(s.protocol.electorate(s.roles()))
        s.scores.append(state.score)
        leader = state.leader
        s._record(ev.ConsensusScored(
            round=r, score=state.score, tied=state.tied,
            leader=leader.message.short_id if leader else None,
            backers=list(leader.backers) if leader else [],
            voters=self._voters(),
            converged=s.tracker.converged(state, self._voters()),
            tally={c.message.short_id: round(c.weight, 4) for c in state.candidates}))
        s.scored_rounds.add(r)
        return state

    async def finish(self, state: ConsensusState, stopped: str) -> CollaborativeResponse:
        from .session import CollaborativeResponse

        s = self._session
        converged = s.tracker.converged(state, self._voters())
        decision: ArbitrationDecision | None = None
        final: LLMMessage | None = state.leader.message if state.leader else None
        proposals = list(s.tracker.proposals.values())
        if not converged and proposals:
            reason = ("tie between " + " and ".join(
                c.message.short_id for c in state.candidates[:2]) if state.tied
                else f"no consensus after {s.rounds_run} rounds "
                     f"(score {state.score:.2f} < {s.tracker.threshold:.2f})")
            decision, final = await self.arbitrate(
                candidates_with_unbacked(state, proposals), reason)
            stopped = "arbitrated"
        if final is None:
            history = s.bus.get_conversation_history(s.conversation_id)
            spoken = [m for m in history if m.from_role not in ("human", "system")]
            final = max(spoken, key=lambda m: m.confidence) if spoken else None
            stopped = stopped if spoken else "no usable replies"
        history = s.bus.get_conversation_history(s.conversation_id)
        contributions: dict[str, list[LLMMessage]] = {}
        for m in history:
            contributions.setdefault(m.from_role, []).append(m)
        score = state.score
        s._record(ev.SessionFinished(
            consensus_score=score, converged=converged, rounds_run=s.rounds_run,
            stopped_reason=stopped, final_message_id=final.id if final else None,
            final_short_id=final.short_id if final else None,
            total_tokens=s.total_tokens))
        s.finished = True
        return CollaborativeResponse(
            session_id=s.session_id, conversation_id=s.conversation_id or "",
            final_answer=final.content if final else "",
            final_message_id=final.id if final else None, consensus_score=score,
            converged=converged, rounds_run=s.rounds_run, stopped_reason=stopped,
            arbitration=decision, contributions=contributions,
            votes=list(s.tracker.votes), scores=list(s.scores),
            failures=list(s.failures), messages=history, saving=s.saving,
            save_warning=s.save_warning)

    async def arbitrate(self, state: ConsensusState,
                        reason: str) -> tuple[ArbitrationDecision, LLMMessage]:
        s = self._session
        try:
            decision = await s.arbitration(state, reason)
        except (EOFError, KeyboardInterrupt):
            decision = await arbitration_policy("highest-score")(state, reason + "; no answer")
        chosen = s.bus.get(decision.choice_id, s.conversation_id)
        if chosen is None:
            # A callback that returned a short id or garbage: fall back rather than fail.
            decision = await arbitration_policy("highest-score")(
                state, reason + f"; arbiter chose unknown {decision.choice_id!r}")
            chosen = s.bus.get(decision.choice_id, s.conversation_id)
        assert chosen is not None
        decision.choice_id = chosen.id
        s._record(ev.Arbitration(**decision.model_dump(), choice_short_id=chosen.short_id))
        note = LLMMessage(
            from_role="human", message_type=MessageType.CONSENSUS, confidence=1.0,
            content=f"Arbitration ({decision.decided_by}): adopt {chosen.short_id} by "
                    f"{chosen.from_role}. {decision.reason}",
            references_to=[chosen.id], round=s.rounds_run,
            conversation_id=s.conversation_id or "", meta={"arbitration": True})
        posted = s.bus.post("human", [], note)
        s._record(ev.MessagePosted(message=posted))
        return decision, chosen
