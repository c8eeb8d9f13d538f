"""TurnRunner: one role's turn in a round, with its one retry, its message and its vote.

A turn fits the role's prompt to its model (``ContextBuilder``), asks for grammar-constrained
JSON (``structured.turn_schema``), parses it, posts it on the bus and updates consensus. An
unusable reply is retried once with the same prompt, asking for less and sampling hotter; a
second failure, a crashed worker or a timeout becomes a ``failure`` event and the
conversation goes on without that turn.
"""

from __future__ import annotations

import asyncio
import json
import time
import zlib
from typing import TYPE_CHECKING, Any

from ..errors import ContextOverflowError, LogoMeshError
from ..pool.types import GenerationRequest, GenerationResult
from ..sessions import events as ev
from .context import TurnExecutor
from .messages import LLMMessage, MessageType
from .protocols import RoundPlan
from .structured import CUT_OFF, combine_confidence, parse_turn, repeats_prompt, turn_schema

if TYPE_CHECKING:
    from .session import MultiModelSession

#: Characters per token assumed when turning a token budget into a content length.
CHARS_PER_TOKEN = 3.0
#: A retry samples hotter than the first try: the same prompt at the same temperature tends to
#: give the same unusable reply.
RETRY_TEMPERATURE_STEP = 0.3


def _retry_seed(session_id: str, round_index: int, role: str) -> int:
    """A seed for a retry that differs from the first try's but is the same on every rerun."""
    return zlib.crc32(f"{session_id}/{round_index}/{role}".encode()) & 0x7FFFFFFF


class TurnRunner:
    """Runs the turns of ``session``; ``semaphore`` bounds how many run at once."""

    def __init__(self, session: MultiModelSession) -> None:
        self._s = session
        self.semaphore: asyncio.Semaphore | None = None

    def fail(self, role: str, model_id: str, round_index: int, reason: str,
             attempts: int, raw_tail: str | None = None) -> None:
        event = ev.TurnFailed(role=role, model_id=model_id, reason=reason, round=round_index,
                              attempts=attempts)
        if raw_tail is not None:
            event.raw_tail = raw_tail  # the end of what the model wrote, for diagnosis
        self._s.failures.append(event.payload())
        self._s._done.add((round_index, role))
        self._s._record(event)

    def vote_candidates(self, visible: list[LLMMessage]) -> list[LLMMessage]:
        latest: dict[str, LLMMessage] = {}
        coded: list[LLMMessage] = []
        for m in visible:
            if m.message_type == MessageType.PROPOSAL:
                if m.artifact is not None:
                    coded.append(m)
                else:
                    latest[m.from_role] = m
        if coded:
            # Code is on the table: the vote is among the candidates that did not fail
            # verification (all of them if every one failed), whoever wrote them.
            ok = [m for m in coded if self._s.tracker.verdicts.get(m.id) is not False]
            return sorted(ok or coded, key=lambda m: int(m.short_id[1:] or 0))
        return sorted(latest.values(), key=lambda m: int(m.short_id[1:] or 0))

    async def turn(self, role: str, plan: RoundPlan, snapshot: set[str] | None) -> None:
        assert self.semaphore is not None and self._s.context is not None
        async with self.semaphore:
            ex = self._s.active_models.get(role)
            if ex is None:
                return
            try:
                self._s.seating.check_swap(role, ex)
            except LogoMeshError as exc:
                # The engine no longer serves the role (unloaded under us): skip the turn.
                self.fail(role, self._s.seating.models.get(role, ""), plan.index, str(exc), 0)
                return
            await self.turn_locked(role, ex, plan, snapshot)

    async def turn_locked(self, role: str, ex: TurnExecutor, plan: RoundPlan,
                          snapshot: set[str] | None) -> None:
        assert self._s.context is not None
        r = plan.index
        visible = self._s.bus.visible_history(role, self._s.conversation_id)
        if snapshot is not None:
            visible = [m for m in visible if m.id in snapshot]
        candidates = self.vote_candidates(visible) if plan.vote else []
        timeout = self._s.limits.turn_timeout_s or self._s.config.turn_timeout_s
        reason = ""
        model_id = ex.model_id
        citable = [m.short_id for m in visible]
        built = None
        for attempt in (1, 2):
            # The retry sends the same prompt (its whole prefix is in the KV cache already) and
            # asks for less: fewer references and half the words, sampled afresh.
            max_refs = 3 if attempt == 1 else 1
            try:
                chars, envelope = await self.content_chars(ex, plan, citable, candidates,
                                                            max_refs)
                # After a cut-off, the retry asks for what fits even at one character a token
                # (runs of digits or symbols; at three the first reply ran past max_tokens).
                max_chars = (chars if attempt == 1 else
                             max(16, int(chars / CHARS_PER_TOKEN)) if reason == CUT_OFF
                             else max(16, chars // 2))
                if built is None:
                    built = await self._s.context.build(
                        role, ex, visible, plan.instruction, max_tokens=self._s.limits.max_tokens,
                        vote_candidates=candidates, allowed=plan.message_types)
                    if built.summary:
                        self._s._record(ev.ContextSummary(**built.summary, round=r))
            except ContextOverflowError as exc:
                self.fail(role, model_id, r, str(exc), attempt)
                return
            except LogoMeshError as exc:
                self.fail(role, model_id, r, f"{exc.__class__.__name__}: {exc}", attempt)
                return
            schema = turn_schema(list(plan.message_types), citable,
                                 vote_candidates=[m.short_id for m in candidates] or None,
                                 max_refs=max_refs, max_content_chars=max_chars)
            max_new = self._s.limits.max_tokens
            if attempt == 2 and reason == CUT_OFF:
                # The grammar writes the JSON around the content, and a model unsure of itself
                # spells it out a character or two a token. The retry lets the envelope take a
                # token a character; its content stays within the budget.
                max_new = max(max_new, min(max_new + envelope, ex.n_ctx - built.tokens))
            request = GenerationRequest(
                messages=built.messages, max_tokens=max_new,
                temperature=self._s.limits.temperature if attempt == 1 else min(
                    1.0, self._s.limits.temperature + RETRY_TEMPERATURE_STEP),
                seed=None if attempt == 1 else _retry_seed(self._s.session_id, r, role),
                json_schema=schema)
            started = time.perf_counter()
            try:
                result = await asyncio.wait_for(
                    ex.generate(request, on_token=self.token_hook(role)), timeout)
            except TimeoutError:
                await _quiet_cancel(ex)
                self._s.context.forget(role)
                self.fail(role, model_id, r, f"timeout after {timeout:g}s", attempt)
                return
            except LogoMeshError as exc:
                # WorkerCrashedError, GenerationCancelled, RemoteServerError ...
                self._s.context.forget(role)
                self.fail(role, model_id, r, f"{exc.__class__.__name__}: {exc}", attempt)
                return
            latency = time.perf_counter() - started
            model_id = result.model_id or ex.model_id
            self._s.total_tokens += result.prompt_tokens + result.completion_tokens
            self._s._record(self.metrics(role, model_id, r, attempt, result, latency,
                                       built.tokens, built.fresh))
            parsed = parse_turn(result.text, result.finish_reason, list(plan.message_types))
            if parsed.ok and repeats_prompt(parsed.content, [
                    self._s.prompt, self._s.context.system_text(role), self._s.context.instruction_text(
                        role, plan.instruction, candidates, plan.message_types)]):
                parsed.error = "the reply repeats the turn's instructions instead of answering"
            if parsed.ok:
                await self.post(role, ex, plan, visible, candidates, parsed, result, request,
                                 latency)
                return
            reason = parsed.error or "unusable reply"
            raw_tail = result.text[-160:]
            if attempt == 1:
                self._s._record(ev.Note(event="retry", role=role, model_id=model_id, round=r,
                                     reason=reason, raw_tail=raw_tail))
        # The transcript ends with a request nobody answered: the role's next turn starts afresh.
        self._s.context.forget(role)
        self.fail(role, model_id, r, reason, 2, raw_tail=raw_tail)

    async def content_chars(self, ex: TurnExecutor, plan: RoundPlan, citable: list[str],
                             candidates: list[LLMMessage], max_refs: int) -> tuple[int, int]:
        """How long ``content`` may be so the whole JSON reply fits in ``max_tokens``, and how
        many characters the JSON around it takes at most.

        The JSON around the content (type, references, confidence, vote) is counted with the
        model's own tokenizer; the rest of the token budget, at about 3 characters a token, is
        the content's ``maxLength`` (never more than ``limits.content_chars()``).
        """
        assert self._s.context is not None
        skeleton: dict[str, Any] = {
            "message_type": max((t.value for t in plan.message_types), key=len),
            "content": "", "references": citable[-max_refs:], "confidence": 0.85}
        if candidates:
            skeleton["vote"] = candidates[-1].short_id
        # Local workers constrain replies to compact JSON (no spaces), as counted here.
        text = json.dumps(skeleton, separators=(",", ":"))
        # The end-of-turn token, and servers that add spaces the grammar does not forbid.
        overhead = await self._s.context.count(ex, text) + 8
        room = int((self._s.limits.max_tokens - overhead) * CHARS_PER_TOKEN)
        return max(16, min(self._s.limits.content_chars(), room)), len(text)

    def token_hook(self, role: str):
        if not self._s.token_listeners:
            return None

        def hook(piece: str) -> None:
            for cb in list(self._s.token_listeners):
                try:
                    cb(role, piece)
                except Exception:  # noqa: BLE001 - a broken view must not stop the turn
                    pass

        return hook

    @staticmethod
    def metrics(role: str, model_id: str, r: int, attempt: int, result: GenerationResult,
                 latency: float, prompt_budgeted: int, fresh: bool) -> ev.TurnMetrics:
        return ev.TurnMetrics(
            role=role, model_id=model_id, round=r, attempt=attempt,
            prompt_tokens=result.prompt_tokens, completion_tokens=result.completion_tokens,
            prompt_tokens_evaluated=result.prompt_tokens_evaluated,
            prompt_tokens_counted=prompt_budgeted, fresh_prompt=fresh,
            finish_reason=result.finish_reason, latency_s=round(latency, 4),
            tokens_per_s=round(result.tokens_per_s, 2),
            ttft_s=result.timings.time_to_first_token_s,
            mean_token_prob=result.mean_token_prob)

    async def post(self, role: str, ex: TurnExecutor, plan: RoundPlan,
                    visible: list[LLMMessage], candidates: list[LLMMessage], parsed,
                    result: GenerationResult, request: GenerationRequest,
                    latency: float) -> None:
        assert self._s.context is not None and parsed.message_type is not None
        confidence = combine_confidence(parsed.self_rating, result.mean_token_prob)
        meta: dict[str, Any] = {}
        if parsed.notes:
            meta["notes"] = parsed.notes
        message = LLMMessage(
            from_role=role, content=parsed.content, message_type=parsed.message_type,
            references_to=parsed.references, confidence=confidence,
            conversation_id=self._s.conversation_id or "", round=plan.index,
            model_id=result.model_id or ex.model_id, prompt_tokens=result.prompt_tokens,
            completion_tokens=result.completion_tokens, latency_s=round(latency, 4),
            self_rating=parsed.self_rating, token_confidence=result.mean_token_prob,
            prompt_messages=request.messages, meta=meta)
        # References must point at what this speaker saw when it spoke.
        seen = {m.short_id for m in visible} | {m.id for m in visible}
        outside = [ref for ref in message.references_to if ref not in seen]
        message.references_to = [ref for ref in message.references_to if ref in seen]
        recipients = plan.recipients(role)
        if recipients:
            recipients = [x for x in recipients if x in self._s.bus.conversation(
                self._s.conversation_id).participants]
            posted = await self._s.bus.send_message(role, recipients, message)
        else:
            posted = await self._s.bus.broadcast_message(role, message)
        if outside:
            posted.meta.setdefault("invalid_references", []).extend(outside)
        self._s._done.add((plan.index, role))
        self._s.context.record_reply(role, ex.model_id, result.text, posted.short_id)
        self._s.tracker.observe(posted)
        self._s._record(ev.MessagePosted(message=posted))
        if plan.vote:
            self.cast_vote(posted, parsed.vote, candidates, plan.index)

    def cast_vote(self, message: LLMMessage, choice: str | None,
                   candidates: list[LLMMessage], r: int) -> None:
        by_short = {m.short_id: m for m in candidates} | {m.id: m for m in candidates}
        target = by_short.get(choice or "")
        if target is None:
            # No valid vote field: fall back to the newest cited candidate, if any.
            cited = [c for c in candidates if c.id in message.references_to]
            target = cited[-1] if cited else None
        if target is None:
            self._s._record(ev.Note(event="no_vote", role=message.from_role, round=r,
                                 given=choice))
            return
        vote = self._s.tracker.make_vote(message, target.id, r)
        self._s.tracker.add_vote(vote)
        self._s._record(ev.VoteCast(vote=vote, target_short_id=target.short_id,
                                 message_id=message.id))


async def _quiet_cancel(ex: TurnExecutor) -> None:
    try:
        await asyncio.wait_for(ex.cancel(), 5)
    except Exception:  # noqa: BLE001 - best effort; the turn already counts as failed
        pass
