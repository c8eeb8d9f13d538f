"""Conversation timeline pane: messages as they stream in, with swaps, votes, consensus,
arbitration and failures in line. Enter on an entry opens it whole."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from rich.text import Text
from textual.message import Message
from textual.widgets import ListItem, ListView, Static

from ...conversation.messages import LLMMessage
from ...sessions import events as ev
from ...sessions.events import Event

BADGE_STYLES = {
    "analysis": "bold white on blue",
    "critique": "bold white on red",
    "proposal": "bold black on green",
    "question": "bold black on yellow",
    "consensus": "bold white on magenta",
    "evidence": "bold black on bright_green",
    "evidence-failed": "bold white on dark_red",
    "streaming": "bold black on cyan",
}

EVENT_ICONS = {
    "swap": ("⇄", "magenta"),
    "vote": ("✓", "green"),
    "consensus": ("Σ", "magenta"),
    "arbitration": ("⚖", "yellow"),
    "failure": ("✗", "red"),
    "summary": ("…", "blue"),
    "note": ("•", "blue"),
    "load": ("+", "green"),
    "unload": ("-", "dim"),
    "session_started": ("▶", "green"),
    "session_finished": ("■", "green"),
    "evidence": ("⚑", "green"),
}

_CONTENT_FIELD = re.compile(r'"content"\s*:\s*"((?:[^"\\]|\\.)*)', re.S)


def visible_stream_text(raw: str) -> str:
    """What to show of a partly streamed reply: the ``content`` field of a JSON reply so far,
    or the raw text when the model is not answering in JSON."""
    stripped = raw.lstrip()
    if not stripped.startswith("{"):
        return raw
    match = _CONTENT_FIELD.search(stripped)
    if not match:
        return ""
    body = match.group(1)
    try:
        return json.loads(f'"{body}"')
    except json.JSONDecodeError:
        # A token may end in the middle of an escape sequence; show it unescaped for now.
        return body.replace('\\"', '"').replace("\\n", "\n")


@dataclass
class TimelineEntry:
    """One line of the timeline: a message, a turn still streaming, or an event."""

    key: str
    kind: str  # message | streaming | event
    role: str = ""
    model_id: str = ""
    message_type: str = ""
    content: str = ""
    confidence: float | None = None
    short_id: str = ""
    references: list[str] = field(default_factory=list)
    event: Event | None = None
    round: int = 0
    artifact: dict[str, Any] | None = None
    evidence: dict[str, Any] | None = None

    @property
    def event_kind(self) -> str:
        return self.event.kind if self.event is not None else ""

    @classmethod
    def from_message(cls, msg: LLMMessage) -> TimelineEntry:
        return cls(key=msg.id, kind="message", role=msg.from_role, model_id=msg.model_id,
                   message_type=str(msg.message_type), content=msg.content,
                   confidence=msg.confidence, short_id=msg.short_id,
                   references=list(msg.references_to), round=msg.round,
                   artifact=msg.artifact.model_dump() if msg.artifact else None,
                   evidence=dict(msg.evidence) if msg.evidence is not None else None)

    @property
    def badge_style(self) -> str:
        """Evidence has its own badge, red when the candidate failed its checks."""
        if self.message_type == "evidence" and self.evidence is not None \
                and not self.evidence.get("passed"):
            return "evidence-failed"
        return self.message_type


def describe_event(event: Event, short_of: dict[str, str] | None = None) -> str:
    """One readable line for a conversation event; ``short_of`` maps message ids to m1, m2 ..."""
    short_of = short_of or {}

    def ref(key: str) -> str:
        return short_of.get(key, key[:6])

    if isinstance(event, ev.Swap):
        took = f" ({event.seconds:.1f}s)" if event.seconds is not None else ""
        return (f"swap {event.role}: {event.old_model_id or '—'} → "
                f"{event.new_model_id}{took}")
    if isinstance(event, ev.VoteCast):
        vote = event.vote
        verdict = "for" if vote.approve else "against"
        return f"vote {vote.voter} {verdict} {ref(vote.target_id)} (weight {vote.weight:g})"
    if isinstance(event, ev.ConsensusScored):
        return f"consensus round {event.round}: {event.score:.2f}"
    if isinstance(event, ev.Arbitration):
        choice = event.choice_short_id or ref(event.choice_id)
        return f"arbitration: {choice} chosen by {event.decided_by or '?'}"
    if isinstance(event, ev.TurnFailed):
        return f"failure {event.role} ({event.model_id}): {event.reason}"
    if isinstance(event, ev.ContextSummary):
        span = f"{event.covers[0]}-{event.covers[-1]}" if event.covers else "older messages"
        return f"summary for {event.role or 'all'}: {span} ({event.method})"
    if isinstance(event, ev.RoleLoaded | ev.RoleUnloaded):
        return f"{event.kind} {event.role}: {event.model_id}"
    if isinstance(event, ev.SessionStarted):
        who = ", ".join(f"{r}={m}" for r, m in event.participants.items())
        return f"started {event.protocol} {who}".rstrip()
    if isinstance(event, ev.SessionFinished):
        score = event.consensus_score
        return "finished" + (f", consensus {score:.2f}" if score is not None else "")
    if isinstance(event, ev.MessagePosted):
        return f"{event.message.short_id} {event.message.from_role}: {event.message.content}"
    if isinstance(event, ev.EvidenceRecorded):
        if event.event == "selection":
            chosen = ref(str(getattr(event, "chosen_message", None) or event.chosen or "none"))
            return f"selection: {chosen} — {event.reason}"
        if event.event == "plan":
            return (f"evidence plan: {getattr(event, 'primary', '?')} codes, "
                    f"{getattr(event, 'tester', '?')} tests, on {getattr(event, 'file', '?')}")
        return f"evidence {event.event}: {event.reason}".rstrip(": ")
    if isinstance(event, ev.Note):
        if event.event == "retry":
            return f"retry {event.role} ({event.model_id}): {event.reason}"
        if event.event == "round_started":
            return f"round {event.round}: {event.name} — {', '.join(event.speakers)}"
        if event.event == "no_vote":
            return f"{event.role} gave no valid vote ({getattr(event, 'given', None)!r})"
        if event.event == "resumed":
            return f"resumed at round {event.round}"
        if event.text:
            return event.text
        return " ".join(f"{k}={v}" for k, v in event.payload().items()
                        if v not in ("", None, [], {}))
    return event.kind


class TimelineItem(ListItem):
    """One entry in the timeline list; re-renders when its entry changes."""

    DEFAULT_CSS = """
    TimelineItem { height: auto; padding: 0 1; }
    TimelineItem > Static { height: auto; max-height: 4; }
    """

    def __init__(self, entry: TimelineEntry, short_of: dict[str, str]) -> None:
        self.entry = entry
        self._short_of = short_of
        self.body = Static("", markup=False)
        super().__init__(self.body)
        self.body.update(self.render_entry())

    def render_entry(self) -> Text:
        e = self.entry
        if e.kind == "event":
            icon, style = EVENT_ICONS.get(e.event_kind, ("•", ""))
            assert e.event is not None
            return Text(f"{icon} {describe_event(e.event, self._short_of)}",
                        style=style)
        badge = e.message_type if e.kind == "message" else "…"
        if e.evidence is not None:
            badge += " ✓" if e.evidence.get("passed") else " ✗"
            tests = (e.evidence.get("project") or {}).get("tests") or {}
            if tests.get("ran"):
                badge += f" tests {tests['passed']}/{tests['passed'] + tests['failed']}"
        head = Text()
        if e.short_id:
            head.append(f"{e.short_id} ", style="dim")
        head.append(f" {badge.upper()} ", style=BADGE_STYLES.get(
            e.badge_style if e.kind == "message" else "streaming", "reverse"))
        head.append(f" {e.role}", style="bold")
        if e.model_id:
            head.append(f" · {e.model_id}", style="dim")
        if e.confidence is not None:
            head.append(f" · {e.confidence:.2f}")
        if e.references:
            refs = ",".join(self._short_of.get(r, r[:6]) for r in e.references)
            head.append(f" ↳ {refs}", style="italic")
        if e.kind == "message":
            text = e.content
            if e.artifact is not None:
                # Code stays collapsed in the list; Enter opens it highlighted.
                lines = len(str(e.artifact.get("text", "")).splitlines())
                text += (f"\n▸ {e.artifact.get('kind', 'file')} {e.artifact.get('path', '')} · "
                         f"{lines} lines (Enter: view)")
        else:
            # Show the newest words of a long stream: the entry is only a few lines high.
            text = visible_stream_text(e.content)
            room = max(40, (self.size.width or 60) * 2)
            if len(text) > room:
                text = "…" + text[-room:]
        return head + Text("\n" + (text.strip() or "…"))

    def refresh_entry(self) -> None:
        self.body.update(self.render_entry())


class TimelinePane(ListView):
    """The conversation as it happens. Up/down select, Enter opens the entry."""

    class Opened(Message):
        """The user asked to see an entry whole."""

        def __init__(self, entry: TimelineEntry) -> None:
            super().__init__()
            self.entry = entry

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.items_by_key: dict[str, TimelineItem] = {}
        self.short_of: dict[str, str] = {}
        self._streams: dict[str, str] = {}  # role -> key of its entry still streaming
        self._dirty: set[TimelineItem] = set()
        self._flush_scheduled = False

    def on_mount(self) -> None:
        self.border_title = "Conversation"

    @property
    def entries(self) -> list[TimelineEntry]:
        return [item.entry for item in self.query(TimelineItem)]

    def _add(self, entry: TimelineEntry) -> TimelineItem:
        follow = self.index is None or self.index >= len(self) - 1
        item = TimelineItem(entry, self.short_of)
        self.items_by_key[entry.key] = item
        self.append(item)
        if follow:
            self.index = len(self) - 1
            self.call_after_refresh(self.scroll_end, animate=False)
        return item

    def clear_entries(self) -> None:
        self.items_by_key.clear()
        self.short_of.clear()
        self._streams.clear()
        self.clear()

    def start_turn(self, turn_id: str, role: str, model_id: str) -> None:
        self._streams[role] = turn_id
        self._add(TimelineEntry(key=turn_id, kind="streaming", role=role, model_id=model_id))

    STREAM_REFRESH_S = 0.05

    def stream(self, turn_id: str, text: str) -> None:
        """Append a token to a streaming entry. Redraws are batched (at most every 50 ms):
        four models at 80 tok/s would otherwise re-layout the list 320 times a second."""
        item = self.items_by_key.get(turn_id)
        if item is None or item.entry.kind != "streaming":
            return
        item.entry.content += text
        self._dirty.add(item)
        if not self._flush_scheduled:
            self._flush_scheduled = True
            self.set_timer(self.STREAM_REFRESH_S, self._flush)

    def _flush(self) -> None:
        self._flush_scheduled = False
        dirty, self._dirty = self._dirty, set()
        for item in dirty:
            if item.is_attached:
                item.refresh_entry()

    def end_turn(self, turn_id: str, role: str) -> None:
        """Drop a streaming entry that never became a message (failed or cancelled turn)."""
        item = self.items_by_key.get(turn_id)
        if item is not None and item.entry.kind == "streaming":
            self.items_by_key.pop(turn_id, None)
            item.remove()
        if self._streams.get(role) == turn_id:
            self._streams.pop(role)

    def add_message(self, msg: LLMMessage) -> None:
        """Show a finished message; it replaces its role's streaming entry if there is one."""
        if msg.short_id:
            self.short_of[msg.id] = msg.short_id
        entry = TimelineEntry.from_message(msg)
        turn_id = self._streams.pop(msg.from_role, None)
        item = self.items_by_key.pop(turn_id, None) if turn_id else None
        if item is not None and item.entry.kind == "streaming":
            item.entry = entry
            self.items_by_key[entry.key] = item
            item.refresh_entry()
            return
        if msg.id in self.items_by_key:
            self.items_by_key[msg.id].entry = entry
            self.items_by_key[msg.id].refresh_entry()
            return
        self._add(entry)

    def add_event(self, event: Event, key: str | None = None) -> None:
        key = key or f"event-{len(self.items_by_key)}-{event.kind}"
        self._add(TimelineEntry(key=key, kind="event", event=event,
                                role=str(getattr(event, "role", "") or "")))

    def select_key(self, key: str) -> bool:
        """Move the selection to the entry with ``key`` (a message id); False if unknown."""
        item = self.items_by_key.get(key)
        if item is None:
            return False
        for i, child in enumerate(self.children):
            if child is item:
                self.index = i
                self.scroll_to_widget(item, animate=False)
                return True
        return False

    def entry_for(self, key: str) -> TimelineEntry | None:
        item = self.items_by_key.get(key)
        return item.entry if item else None

    def on_list_view_selected(self, event: ListView.Selected) -> None:
        if isinstance(event.item, TimelineItem):
            event.stop()
            self.post_message(self.Opened(event.item.entry))
