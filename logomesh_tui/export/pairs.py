"""Preference pairs across two branches of one session (``export A --format dpo --pair B``).

Two branches share their history up to the fork point and then answer the same task with
different models. Where both wrote code for the same file at the same position after the
fork (the same round, role and file, the n-th such answer of each) and the verifier passed one
and failed the other, the passing answer is chosen and the failing one rejected. The prompt is
the shared prefix: the task and the messages both branches saw (only the task for branches
forked before the first turn); each record's ``metadata`` names both sessions and both models.
"""

from __future__ import annotations

from typing import Any

from ..conversation.messages import LLMMessage, MessageType
from ..errors import UsageError
from ..sessions import events as ev
from ..sessions.lineage import common_prefix, shared_point
from .formats import code_reply, verdicts
from .view import SessionView

Position = tuple[int, str, str, int]


def shared_prompt(view: SessionView, shared: int) -> list[dict[str, str]]:
    """The task and the shared messages, as one user turn."""
    lines = [f"[{m.short_id}] {m.from_role} ({m.message_type.value}): {m.content}"
             for e in view.events[:shared] if isinstance(e, ev.MessagePosted)
             for m in [e.message]]
    history = "\n".join(lines)
    text = (view.task or view.prompt).strip()
    if history:
        text += f"\n\nThe conversation so far:\n{history}"
    return [{"role": "user", "content": text}]


def _positions(view: SessionView, shared: int) -> dict[Position, LLMMessage]:
    """Code answers after the fork point that the verifier judged, by their position."""
    judged = verdicts(view)
    seen: dict[tuple[int, str, str], int] = {}
    out: dict[Position, LLMMessage] = {}
    for e in view.events[shared:]:
        if not isinstance(e, ev.MessagePosted):
            continue
        m = e.message
        if m.message_type != MessageType.PROPOSAL or m.artifact is None or m.id not in judged:
            continue
        key = (m.round, m.from_role, m.artifact.path)
        n = seen.get(key, 0)
        seen[key] = n + 1
        out[(*key, n)] = m
    return out


def fork_pair_records(a: SessionView, b: SessionView) -> list[dict[str, Any]]:
    """DPO records from two branches of one session, wherever evidence separated them."""
    shared = common_prefix([a.events, b.events])
    point = shared_point(a.events[:shared])
    if point is None:
        raise UsageError(f"{a.session_id} and {b.session_id} share no history: --pair takes "
                         "a branch of the same session (see `logomesh-tui sessions list`)")
    prompt = shared_prompt(a, shared)
    passed = {**verdicts(a), **verdicts(b)}
    at_b = _positions(b, shared)
    out = []
    for pos, ma in _positions(a, shared).items():
        mb = at_b.get(pos)
        if mb is None or passed[ma.id] == passed[mb.id]:
            continue
        (chosen, cv), (rejected, rv) = sorted(((ma, a), (mb, b)),
                                              key=lambda x: not passed[x[0].id])
        out.append({
            "prompt": prompt,
            "chosen": [{"role": "assistant", "content": code_reply(chosen)}],
            "rejected": [{"role": "assistant", "content": code_reply(rejected)}],
            "metadata": {"fork_at": point[0], "fork_short_id": point[1],
                         "round": pos[0], "role": pos[1], "file": pos[2],
                         "chosen_session": cv.session_id, "chosen_model": chosen.model_id,
                         "chosen_message": chosen.id,
                         "rejected_session": rv.session_id, "rejected_model": rejected.model_id,
                         "rejected_message": rejected.id},
        })
    return out
