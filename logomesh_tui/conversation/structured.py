"""The structured reply every turn must produce, how it is parsed, and what confidence means.

Each turn asks the model for grammar-constrained JSON (``GenerationRequest.json_schema``)::

    {"message_type": "proposal", "content": "...", "references": ["m3"], "confidence": 0.7}

plus ``"vote": "m5"`` in rounds that hold a consensus vote. The schema enumerates the short ids
a model may cite, so a constrained local model cannot invent one; replies from servers that
ignore the schema are still checked, and ids that do not exist are dropped and flagged.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from typing import Any

from .messages import MessageType

#: The error of a reply that ran past max_tokens before its JSON closed.
CUT_OFF = "cut off at max_tokens"

#: Weight of the model's self-rating in the combined confidence; the rest is token probability.
SELF_RATING_WEIGHT = 0.5
#: The self-ratings a model may give: 0, 0.1, ..., 0.9, 1.
CONFIDENCE_STEPS = [0, *(round(i / 10, 1) for i in range(1, 10)), 1]


def turn_schema(message_types: list[MessageType], citable: list[str], *,
                vote_candidates: list[str] | None = None, max_refs: int = 3,
                max_content_chars: int | None = None) -> dict[str, Any]:
    """JSON schema for one turn.

    ``citable`` are the short ids the speaker can see; ``vote_candidates`` (short ids of
    proposals) adds a required ``vote`` field. ``max_content_chars`` bounds the content so the
    grammar closes the JSON before ``max_tokens`` runs out (small models otherwise get cut off).
    """
    content: dict[str, Any] = {"type": "string", "minLength": 1}
    if max_content_chars is not None:
        max_content_chars = max(1, max_content_chars)
    if max_content_chars:
        content["maxLength"] = max_content_chars
    refs: dict[str, Any]
    if citable:
        refs = {"type": "array", "items": {"type": "string", "enum": list(citable)},
                "maxItems": max_refs}
    else:
        refs = {"type": "array", "items": {"type": "string", "pattern": "^m[0-9]+$"},
                "maxItems": 0}
    props: dict[str, Any] = {
        "message_type": {"type": "string", "enum": [t.value for t in message_types]},
        "content": content,
        "references": refs,
        # An enum of one-decimal values: a plain number lets small models spin out
        # "0.99999999..." until max_tokens cuts the reply off.
        "confidence": {"type": "number", "enum": CONFIDENCE_STEPS},
    }
    required = ["message_type", "content", "references", "confidence"]
    if vote_candidates:
        props["vote"] = {"type": "string", "enum": list(vote_candidates)}
        required.append("vote")
    return {"type": "object", "properties": props, "required": required,
            "additionalProperties": False}


@dataclass
class ParsedTurn:
    """A usable structured reply, or the reason it is unusable (``error``)."""

    message_type: MessageType | None = None
    content: str = ""
    references: list[str] = field(default_factory=list)
    self_rating: float | None = None
    vote: str | None = None
    error: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.error is None


def parse_turn(text: str, finish_reason: str, allowed_types: list[MessageType]) -> ParsedTurn:
    """Parse a model's reply. Unusable when cut off, not a JSON object, or its content is empty.

    A message type outside ``allowed_types`` is replaced by the round's first allowed type
    (noted) rather than discarding the content: the words matter more than the label.
    """
    if finish_reason in ("cancelled", "error"):
        return ParsedTurn(error=f"generation {finish_reason}")
    raw = text.strip()
    if raw.startswith("```"):
        # Servers without grammar support sometimes fence their JSON.
        raw = raw.strip("`").removeprefix("json").strip()
    try:
        # strict=False: a raw newline or tab inside a string is harmless, not a failure.
        data = json.loads(raw, strict=False)
    except json.JSONDecodeError as exc:
        # A grammar can close the object on the very last allowed token; llama.cpp then still
        # reports "length". Only a reply that does not parse counts as cut off.
        if finish_reason == "length":
            return ParsedTurn(error=CUT_OFF)
        return ParsedTurn(error=f"invalid JSON ({exc.msg} at char {exc.pos})")
    if not isinstance(data, dict):
        return ParsedTurn(error="reply is not a JSON object")
    content = data.get("content")
    if not isinstance(content, str) or not content.strip():
        return ParsedTurn(error="empty content")
    out = ParsedTurn(content=content.strip())
    mtype = data.get("message_type")
    try:
        out.message_type = MessageType(str(mtype))
    except ValueError:
        out.message_type = allowed_types[0]
        out.notes.append(f"message_type {mtype!r} replaced by {allowed_types[0].value}")
    if out.message_type not in allowed_types:
        out.notes.append(f"message_type {out.message_type.value} not expected this round")
        out.message_type = allowed_types[0]
    refs = data.get("references") or []
    if isinstance(refs, list):
        # Small models repeat ids (["m1", "m1", "m1"]); keep each once, in order.
        out.references = list(dict.fromkeys(
            str(r).strip() for r in refs if isinstance(r, (str, int))))
    rating = data.get("confidence")
    if isinstance(rating, (int, float)) and not isinstance(rating, bool) and math.isfinite(rating):
        # Some models answer on a 0..10 or 0..100 scale despite the instructions.
        if rating > 1:
            rating = rating / 100 if rating > 10 else rating / 10
        out.self_rating = min(1.0, max(0.0, float(rating)))
    vote = data.get("vote")
    if isinstance(vote, str) and vote.strip():
        out.vote = vote.strip()
    return out


#: Share of a reply's word 4-grams found in its own prompt above which it is an echo.
ECHO_SHARE = 0.8
_WORD = re.compile(r"\w+")


def repeats_prompt(content: str, prompt_texts: list[str]) -> bool:
    """True when ``content`` is (nearly all) words copied from the turn's own prompt.

    ``prompt_texts`` are what the orchestrator wrote: the task statement, the role's standing
    instructions and this turn's instruction ("Your turn, ... Round 4 - final review ...").
    The smallest models often answer by copying those lines into ``content``; such a reply
    contributes nothing and is unusable like an empty one. A reply counts as an echo when at
    least ``ECHO_SHARE`` of its word 4-grams occur in the prompt texts, or, when it has fewer
    than four words (but at least three), when all of it occurs there. Earlier messages and
    input files are not prompt texts: quoting a peer or the code is allowed.
    """
    words = _WORD.findall(content.lower())
    source = _WORD.findall(" ".join(prompt_texts).lower())
    if len(words) < 3 or not source:
        return False
    if len(words) < 4:
        return f" {' '.join(words)} " in f" {' '.join(source)} "
    grams = {tuple(words[i:i + 4]) for i in range(len(words) - 3)}
    known = {tuple(source[i:i + 4]) for i in range(len(source) - 3)}
    return len(grams & known) >= ECHO_SHARE * len(grams)


def combine_confidence(self_rating: float | None, mean_token_prob: float | None) -> float:
    """The confidence recorded on a message, 0..1.

    It blends what the model says about itself with how sure its sampling was:

    ``confidence = w * self_rating + (1 - w) * token_confidence`` with ``w = SELF_RATING_WEIGHT``
    (0.5), where ``token_confidence`` is ``GenerationResult.mean_token_prob``, the geometric mean
    probability of the tokens the model sampled (high when the model had little doubt about
    every token it wrote). When only one of the two is known it is used alone; when neither is
    (a remote server with no log-probabilities that also gave no rating) the message gets 0.5,
    meaning "unknown", and the message records both parts as ``None`` so readers can tell.
    """
    parts = [(SELF_RATING_WEIGHT, self_rating), (1 - SELF_RATING_WEIGHT, mean_token_prob)]
    known = [(w, min(1.0, max(0.0, v))) for w, v in parts if v is not None and math.isfinite(v)]
    if not known:
        return 0.5
    total = sum(w for w, _ in known)
    return round(sum(w * v for w, v in known) / total, 4)
