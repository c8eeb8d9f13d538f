"""The dashboard's view of the conversation runner: runner callbacks become Textual messages.

The runner (``conversation.runner``) owns the conversation's state; this view only posts what
happens to the app, whose handlers update the panes. Live runs and replays of a session file
take the same path (``ConversationEvent``). Arbitration asks the person in a dialog.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from ..conversation.consensus import (
    ArbitrationDecision,
    ConsensusState,
    highest_score_policy,
)
from ..conversation.runner import RunnerView, StateChange, TurnReport
from ..sessions.events import Event
from .messages import (
    ConversationEvent,
    ConversationState,
    TimelineReset,
    TokenStreamed,
    TurnAborted,
    TurnFinished,
    TurnStarted,
)
from .screens.arbitration import ArbitrationScreen, Proposal

if TYPE_CHECKING:
    from textual.app import App


class DashboardView(RunnerView):
    """Posts a message to ``app`` for everything the runner reports."""

    def __init__(self, app: App[Any]) -> None:
        self.app = app

    def state_changed(self, change: StateChange) -> None:
        self.app.post_message(ConversationState(change.state.value, change.detail))

    def reset(self, session_id: str) -> None:
        self.app.post_message(TimelineReset(session_id))

    def event(self, event: Event, replayed: bool) -> None:
        self.app.post_message(ConversationEvent(event, replayed=replayed))

    def turn(self, report: TurnReport) -> None:
        if report.phase == "started":
            self.app.post_message(TurnStarted(report.turn_id, report.role, report.model_id))
        elif report.phase == "aborted":
            self.app.post_message(TurnAborted(report.turn_id, report.role))
        else:
            self.app.post_message(TurnFinished(
                report.turn_id, report.role, report.model_id,
                tokens_per_s=report.tokens_per_s, latency_s=report.latency_s,
                completion_tokens=report.completion_tokens,
                finish_reason=report.finish_reason))

    def token(self, turn_id: str, role: str, text: str) -> None:
        self.app.post_message(TokenStreamed(turn_id, role, text))


def proposals_from_state(state: ConsensusState) -> list[Proposal]:
    """Arbitration candidates as dialog rows."""
    out = []
    for cand in state.candidates:
        msg = cand.message
        out.append(Proposal(id=msg.id, role=msg.from_role, content=msg.content,
                            short_id=msg.short_id, model_id=msg.model_id,
                            votes_for=round(cand.weight, 3), voters=list(cand.backers)))
    return out


async def ask_in_dialog(app: App[Any], state: ConsensusState,
                        reason: str) -> ArbitrationDecision:
    """The dashboard's arbitration: the person picks a proposal in a dialog (Esc leaves it to
    the highest-score policy)."""
    proposals = proposals_from_state(state)
    choice: asyncio.Future[str | None] = asyncio.get_running_loop().create_future()

    def done(picked: str | None) -> None:
        if not choice.done():
            choice.set_result(picked)

    app.push_screen(ArbitrationScreen(proposals, reason=reason), done)
    picked = await choice
    if picked is None:
        return await highest_score_policy()(state, reason + "; left to policy by the user")
    short = next((p.short_id for p in proposals if p.id == picked), picked)
    return ArbitrationDecision(choice_id=picked, decided_by="human", policy="dialog",
                               reason=f"{reason}; {short} chosen in the dashboard")
