"""Per-role prompts that fit each model's window, built append-only.

Every role keeps a *transcript*: the chat its model has seen so far. A turn appends one user
message (what was said since the role last spoke, then the round's instruction) and, after the
reply, one assistant message (the model's own JSON). Because nothing earlier changes, llama.cpp
finds the previous prompt as a prefix in its KV cache and evaluates only the new tokens.

The transcript is rebuilt from scratch ("fresh build") when

- the role has no transcript yet (first turn, resumed session);
- the model behind the role changed (hot-swap): the new model gets the instructions and the
  conversation so far, fitted to *its* window with *its* tokenizer;
- appending would overflow ``n_ctx - max_tokens`` (minus a margin for the chat template).

A fresh build keeps the role's instructions, the task, the latest proposal of every role and as
many recent messages as fit in about 60 % of the budget (the rest is room to append later
turns); older messages are replaced by a summary written by a model, or, when that fails or
does not fit, by an extractive digest (the first words of each message).

The layout is ordered for reuse: the shared context (the task and its attached files, identical
for every role on a model) comes first, then the role's instructions, then the summary (always
at this one boundary), then the append-only history.

When several roles of the session use the same model (one shared worker, one KV cache), their
per-role transcripts would diverge after the task and each need a cache of its own. Instead
those roles read one *shared transcript* per model: the task, the team's common instructions,
the summary and every message rendered the same way for everyone, append-only; the role's own
part (who it is, this turn's instruction) comes last and is the only thing not kept. The next
role's prompt then extends the previous one: the worker evaluates the new messages and a short
role part, not the whole prompt. A message addressed to some roles only cannot go into a
transcript others read: while one is visible, the role falls back to its own transcript.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from ..errors import ContextOverflowError
from ..pool.types import GenerationRequest, GenerationResult, TokenCallback
from .messages import LLMMessage, MessageType
from .roles import ROLE_DESCRIPTIONS

#: Tokens a chat template adds around each message, and around the whole prompt.
PER_MESSAGE_OVERHEAD = 8
PER_PROMPT_OVERHEAD = 16
#: Share of the budget a fresh build may fill, leaving room to append later turns.
FRESH_FILL = 0.6
SUMMARY_SHARE = 0.15
TASK_SHARE = 0.35
# How earlier messages are shown and how to answer: the same in a role's own prompt and in the
# shared transcript's head.
_ANSWER_FORMAT = (
    "Earlier messages are shown as [m3] role (type, cites m1): text. Build on them.\n"
    "Answer with one JSON object. In \"content\" write your actual contribution: a "
    "specific, concrete point about the task, in one or two short sentences. "
    "\"message_type\" says what it is. \"references\" lists the ids (like m2) of the "
    "messages you build on or criticise. \"confidence\" is how sure you are, from 0 "
    "to 1.")


@runtime_checkable
class TurnExecutor(Protocol):
    """What the orchestrator needs from whatever serves a role's turns: the engine's per-role
    handle (``pool.engine.RoleExecutor``), a gated or reporting wrapper of it, or a backend."""

    # Read-only: the engine's handles follow hot-swaps, so both are computed on each read.
    @property
    def model_id(self) -> str: ...

    @property
    def n_ctx(self) -> int: ...

    async def generate(self, request: GenerationRequest,
                       on_token: TokenCallback | None = None) -> GenerationResult: ...

    async def count_tokens(self, text: str) -> int: ...

    async def cancel(self) -> None: ...



Summarizer = Callable[[str, TurnExecutor, list[LLMMessage], int], Awaitable[str | None]]
"""async (role, executor, older messages, max_tokens) -> summary text or None."""


def render_message(m: LLMMessage, viewer: str, short_of: dict[str, str],
                   content: str | None = None) -> str:
    who = "you" if m.from_role == viewer else m.from_role
    refs = [short_of.get(r, r) for r in m.references_to]
    cites = f", cites {', '.join(refs)}" if refs else ""
    to = f", to {', '.join(m.recipients)}" if m.recipients else ""
    return f"[{m.short_id}] {who} ({m.message_type.value}{cites}{to}): {content or m.content}"


def extractive_digest(messages: list[LLMMessage], short_of: dict[str, str],
                      words: int = 14) -> str:
    """The first words of each message: a summary that needs no model."""
    lines = []
    for m in messages:
        head = " ".join(m.content.split()[:words])
        if len(m.content.split()) > words:
            head += " ..."
        lines.append(f"{m.short_id} {m.from_role} ({m.message_type.value}): {head}")
    return "\n".join(lines)


@dataclass
class Transcript:
    """The chat one role's current model has seen."""

    model_id: str
    n_ctx: int
    messages: list[dict[str, str]] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)
    last_own_short: str | None = None


@dataclass
class SharedTranscript:
    """The history every role on one model reads (see the module docstring)."""

    model_id: str
    n_ctx: int
    head: str
    lines: list[str] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)

    def text(self, lines: list[str] | None = None) -> str:
        body = "\n".join(self.lines if lines is None else lines)
        return f"{self.head}\nConversation so far:\n{body}" if body else self.head


@dataclass
class BuiltPrompt:
    messages: list[dict[str, str]]
    tokens: int
    fresh: bool
    summary: dict[str, Any] | None = None  # set when older turns were summarized


class ContextBuilder:
    """Builds each role's prompt for a turn; see the module docstring for the policy."""

    def __init__(self, task: str, participants: Callable[[], list[str]],
                 role_instructions: dict[str, str] | None = None,
                 summarizer: Summarizer | None = None,
                 models: Callable[[], dict[str, str]] | None = None) -> None:
        self.task = task
        self._participants = participants
        self.role_instructions = dict(role_instructions or {})
        self.summarizer = summarizer
        # role -> model id of the session's roles; None: never share a transcript
        self._models = models
        self.transcripts: dict[str, Transcript] = {}
        self.shared: dict[str, SharedTranscript] = {}
        self._counts: dict[tuple[str, str], int] = {}
        self._summaries: dict[tuple[str, ...], tuple[str, str]] = {}

    # -- token counting -------------------------------------------------------------------

    async def count(self, ex: TurnExecutor, text: str) -> int:
        key = (ex.model_id, text)
        if key not in self._counts:
            self._counts[key] = int(await ex.count_tokens(text))
        return self._counts[key]

    async def prompt_tokens(self, ex: TurnExecutor, messages: list[dict[str, str]]) -> int:
        total = PER_PROMPT_OVERHEAD
        for m in messages:
            total += await self.count(ex, m["content"]) + PER_MESSAGE_OVERHEAD
        return total

    async def fit_text(self, ex: TurnExecutor, text: str, max_tokens: int) -> str:
        """The longest prefix of ``text`` (cut at a space) within ``max_tokens``."""
        if max_tokens <= 0:
            return ""
        if await self.count(ex, text) <= max_tokens:
            return text
        marker = " ...[cut]"
        lo, hi = 0, len(text)
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if await self.count(ex, text[:mid] + marker) <= max_tokens:
                lo = mid
            else:
                hi = mid - 1
        cut = text[:lo]
        space = cut.rfind(" ")
        if space > lo * 0.8:
            cut = cut[:space]
        return cut + marker if cut else ""

    # -- prompt pieces --------------------------------------------------------------------

    def system_text(self, role: str) -> str:
        """The role's standing instructions (they open the role's first user message)."""
        others = [p for p in self._participants() if p != role]
        desc = self.role_instructions.get(role) or ROLE_DESCRIPTIONS.get(
            role, f"You contribute the perspective of the {role}.")
        # No example reply: the smallest models copy examples word for word.
        return (
            f"You are the {role} in a team of AI models"
            f"{' with ' + ', '.join(others) if others else ''}, working together on one task. "
            f"{desc}\n"
            + _ANSWER_FORMAT)

    def team_text(self) -> str:
        """The instructions every role reads the same way (the shared transcript's head)."""
        roles = self._participants()
        return (
            f"You are a team of AI models ({', '.join(roles)}) working together on one task; "
            "each turn one of you speaks, in the role named at the end.\n"
            + _ANSWER_FORMAT)

    def role_text(self, role: str, instr: str) -> str:
        """The part of a shared-transcript prompt that is the role's own (not kept)."""
        desc = self.role_instructions.get(role) or ROLE_DESCRIPTIONS.get(
            role, f"You contribute the perspective of the {role}.")
        return f"You are the {role}. {desc}\n{instr}"

    def _shares_model(self, role: str, model_id: str) -> bool:
        if self._models is None:
            return False
        models = self._models()
        return sum(1 for r, m in models.items() if m == model_id and r != role) > 0

    @staticmethod
    def short_map(visible: list[LLMMessage]) -> dict[str, str]:
        return {m.id: m.short_id for m in visible}

    def instruction_text(self, role: str, instruction: str, vote_candidates: list[LLMMessage],
                         allowed: tuple[MessageType, ...]) -> str:
        parts = [f"Your turn, {role}. {instruction}",
                 f"Use message_type {' or '.join(t.value for t in allowed)}."]
        if vote_candidates:
            parts.append("Vote (field \"vote\") for one proposal: " + ", ".join(
                f"{m.short_id} by {m.from_role}" for m in vote_candidates) + ".")
        return " ".join(parts)

    # -- building -------------------------------------------------------------------------

    async def build(self, role: str, ex: TurnExecutor, visible: list[LLMMessage],
                    instruction: str, *, max_tokens: int,
                    vote_candidates: list[LLMMessage] | None = None,
                    allowed: tuple[MessageType, ...] = (MessageType.ANALYSIS,)) -> BuiltPrompt:
        """The chat for ``role``'s next turn, within its model's window less ``max_tokens``."""
        budget = ex.n_ctx - max_tokens - PER_PROMPT_OVERHEAD
        if budget < 64:
            raise ContextOverflowError(
                f"{role}: n_ctx {ex.n_ctx} leaves no room for a prompt with max_tokens "
                f"{max_tokens}; lower max_tokens or raise n_ctx")
        instr = self.instruction_text(role, instruction, vote_candidates or [], allowed)
        if self._shares_model(role, ex.model_id) and not any(m.recipients for m in visible):
            return await self._build_shared(role, ex, visible, instr, budget)
        tr = self.transcripts.get(role)
        short_of = self.short_map(visible)
        if tr is not None and tr.model_id == ex.model_id:
            new = [m for m in visible if m.id not in tr.seen]
            lines = [render_message(m, role, short_of) for m in new if m.from_role != role]
            if tr.last_own_short:
                lines.insert(0, f"(Your last message is {tr.last_own_short}.)")
            text = "\n".join(lines + [instr]) if lines else instr
            candidate = [dict(m) for m in tr.messages]
            if candidate and candidate[-1]["role"] == "user":
                candidate[-1]["content"] += "\n\n" + text
            else:
                candidate.append({"role": "user", "content": text})
            tokens = await self.prompt_tokens(ex, candidate)
            if tokens <= budget:
                tr.messages = candidate
                tr.seen.update(m.id for m in new)
                tr.last_own_short = None
                return BuiltPrompt(candidate, tokens, fresh=False)
        return await self._fresh(role, ex, visible, instr, budget)

    async def _build_shared(self, role: str, ex: TurnExecutor, visible: list[LLMMessage],
                            instr: str, budget: int) -> BuiltPrompt:
        own = self.role_text(role, instr)
        sh = self.shared.get(ex.model_id)
        vis = {m.id for m in visible}
        if sh is not None and sh.n_ctx == ex.n_ctx and all(i in vis for i in sh.ids):
            short_of = self.short_map(visible)
            new = [m for m in visible if m.id not in set(sh.ids)]
            lines = sh.lines + [render_message(m, "", short_of) for m in new]
            messages = [{"role": "user", "content": f"{sh.text(lines)}\n\n{own}"}]
            tokens = await self.prompt_tokens(ex, messages)
            if tokens <= budget:
                sh.lines = lines
                sh.ids += [m.id for m in new]
                return BuiltPrompt(messages, tokens, fresh=False)
        return await self._fresh_shared(role, ex, visible, instr, own, budget)

    async def _fresh_shared(self, role: str, ex: TurnExecutor, visible: list[LLMMessage],
                            instr: str, own: str, budget: int) -> BuiltPrompt:
        """A new shared transcript for ``ex``'s model: task, team instructions, the summary of
        what does not fit, recent messages; about 60 % of the budget, the rest to append to."""
        short_of = self.short_map(visible)
        team = self.team_text()
        # Room for the longest role part a turn may add (the role's part is not kept).
        own_room = max(await self.count(ex, own), 96) + 24
        task = await self.fit_text(ex, self.task, max(32, int(budget * TASK_SHARE)))
        head = f"TASK:\n{task}\n\n{team}"
        fixed = await self.count(ex, head) + own_room + PER_MESSAGE_OVERHEAD
        room = max(0, int(budget * FRESH_FILL) - fixed)
        summary_room = int(budget * SUMMARY_SHARE)
        keep_room = max(0, room - summary_room)
        rendered, older, summary, summary_info = await self._keep_and_summarize(
            role, ex, visible, "", short_of, room, keep_room)
        if summary:
            head += f"\n\n{summary}"
        kept = [m for m in visible if m.id in rendered]
        sh = SharedTranscript(model_id=ex.model_id, n_ctx=ex.n_ctx, head=head,
                              lines=[rendered[m.id] for m in kept], ids=[m.id for m in kept]
                              + [m.id for m in older])
        messages = [{"role": "user", "content": f"{sh.text()}\n\n{own}"}]
        tokens = await self.prompt_tokens(ex, messages)
        if tokens > budget:
            # Only reachable with a tiny window: the role's own transcript, cut to fit.
            return await self._fresh(role, ex, visible, instr, budget)
        self.shared[ex.model_id] = sh
        return BuiltPrompt(messages, tokens, fresh=True, summary=summary_info)

    async def _fresh(self, role: str, ex: TurnExecutor, visible: list[LLMMessage], instr: str,
                     budget: int) -> BuiltPrompt:
        short_of = self.short_map(visible)
        # The role's instructions go in the first user message rather than a system message:
        # some chat formats (Gemma's) drop system messages, and every model must see its role.
        intro = self.system_text(role)
        fixed = await self.prompt_tokens(ex, [{"role": "user", "content": intro}]) \
            + await self.count(ex, instr) + 16
        task = await self.fit_text(ex, self.task, max(32, int(budget * TASK_SHARE)))
        task_block = f"TASK:\n{task}"
        fixed += await self.count(ex, task_block)
        target = int(budget * FRESH_FILL)
        room = max(0, target - fixed)
        summary_room = int(budget * SUMMARY_SHARE)

        rendered, older, summary, summary_info = await self._keep_and_summarize(
            role, ex, visible, role, short_of, room, max(0, room - summary_room))
        # Shared context first (the same tokens for every role), then what is the role's own.
        parts = [task_block, intro] + ([summary] if summary else [])
        kept = [m for m in visible if m.id in rendered]
        if kept:
            parts.append("Conversation so far:\n" + "\n".join(rendered[m.id] for m in kept))
        user = {"role": "user", "content": "\n\n".join(parts + [instr])}
        messages = [user]
        tokens = await self.prompt_tokens(ex, messages)
        if tokens > budget:
            # Only reachable with a tiny window: cut everything before the instruction.
            head = await self.fit_text(
                ex, "\n\n".join(parts), budget - PER_PROMPT_OVERHEAD - PER_MESSAGE_OVERHEAD
                - await self.count(ex, instr) - 4)
            user["content"] = head + "\n\n" + instr
            tokens = await self.prompt_tokens(ex, messages)
        self.transcripts[role] = Transcript(model_id=ex.model_id, n_ctx=ex.n_ctx,
                                            messages=messages, seen={m.id for m in visible})
        return BuiltPrompt(messages, tokens, fresh=True, summary=summary_info)

    async def _keep_and_summarize(self, role: str, ex: TurnExecutor, visible: list[LLMMessage],
                                  viewer: str, short_of: dict[str, str], room: int,
                                  keep_room: int
                                  ) -> tuple[dict[str, str], list[LLMMessage], str, dict | None]:
        """What a fresh build keeps: each role's latest proposal (cut to its share), then recent
        messages, newest first, within ``keep_room``; the rest goes into a summary within what is
        left of ``room``. Returns (rendered lines by id, older messages, summary block, info)."""
        latest: dict[str, LLMMessage] = {}
        for m in visible:
            if m.message_type == MessageType.PROPOSAL:
                latest[m.from_role] = m
        rendered: dict[str, str] = {}
        per_must = max(24, keep_room // max(1, len(latest) + 2)) if latest else 0
        used = 0
        for m in latest.values():
            line = render_message(m, viewer, short_of)
            if await self.count(ex, line) > per_must:
                prefix = render_message(m, viewer, short_of, content="")
                body = await self.fit_text(ex, m.content, per_must - await self.count(ex, prefix))
                line = render_message(m, viewer, short_of, content=body or "...")
            rendered[m.id] = line
            used += await self.count(ex, line) + 1
        for m in reversed(visible):
            if m.id in rendered:
                continue
            line = render_message(m, viewer, short_of)
            n = await self.count(ex, line)
            if used + n + 1 > keep_room:
                break
            rendered[m.id] = line
            used += n + 1
        older = [m for m in visible if m.id not in rendered]
        if not older:
            return rendered, older, "", None
        text, method = await self._summary(role, ex, older, short_of, max(24, room - used - 8))
        info = {"role": role, "model_id": ex.model_id, "method": method,
                "covers": [m.short_id for m in older], "tokens": await self.count(ex, text)}
        return (rendered, older, f"Summary of earlier messages ({older[0].short_id}-"
                f"{older[-1].short_id}):\n{text}", info)

    async def _summary(self, role: str, ex: TurnExecutor, older: list[LLMMessage],
                       short_of: dict[str, str], max_tokens: int) -> tuple[str, str]:
        key = tuple(m.id for m in older) + (ex.model_id, str(max_tokens))
        if key in self._summaries:
            return self._summaries[key]
        result: tuple[str, str] | None = None
        if self.summarizer is not None:
            try:
                text = await self.summarizer(role, ex, older, max_tokens)
            except Exception:  # noqa: BLE001 - a failed summary falls back to extraction
                text = None
            if text and text.strip():
                text = await self.fit_text(ex, " ".join(text.split()), max_tokens)
                if text:
                    result = (text, "model")
        if result is None:
            digest = extractive_digest(older, short_of)
            lines = digest.split("\n")
            # Keep the newest lines that fit: recent context matters more than old.
            while lines and await self.count(ex, "\n".join(lines)) > max_tokens:
                lines.pop(0)
            text = "\n".join(lines) or await self.fit_text(ex, digest, max_tokens)
            result = (text, "extractive")
        self._summaries[key] = result
        return result

    def record_reply(self, role: str, model_id: str, raw_text: str, short_id: str) -> None:
        """Append the model's own reply to its transcript (what it generated, token for token)."""
        tr = self.transcripts.get(role)
        if tr is None or tr.model_id != model_id:
            return
        if tr.messages and tr.messages[-1]["role"] == "user":
            tr.messages.append({"role": "assistant", "content": raw_text})
            tr.last_own_short = short_id

    def forget(self, role: str) -> None:
        """Drop a role's transcript: its next turn gets a fresh build."""
        self.transcripts.pop(role, None)


async def model_summarizer(role: str, ex: TurnExecutor, older: list[LLMMessage],
                           max_tokens: int) -> str | None:
    """Ask the role's own model to summarise older turns (the seed's cure for context drift).

    The input is the extractive digest fitted to the model's window, so it never overflows.
    """
    short_of = {m.id: m.short_id for m in older}
    lines = [render_message(m, "", short_of) for m in older]
    head = ("Summarise this discussion in a few sentences. Keep message ids (like m3) "
            "of proposals and name who disagreed.\n\n")
    room = ex.n_ctx - max_tokens - 3 * PER_MESSAGE_OVERHEAD - PER_PROMPT_OVERHEAD - 40
    body = "\n".join(lines)
    if (await ex.count_tokens(head + body)) > room:
        body = extractive_digest(older, short_of, words=10)
        while body and await ex.count_tokens(head + body) > room:
            body = body.split("\n", 1)[1] if "\n" in body else ""
        if not body:
            return None
    request = GenerationRequest(
        messages=[{"role": "user", "content": head + body}],
        max_tokens=max(16, min(max_tokens, 160)), temperature=0.2)
    result = await ex.generate(request)
    if result.finish_reason not in ("stop", "length"):
        return None
    return result.text.strip() or None
