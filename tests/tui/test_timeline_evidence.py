"""Artifacts and evidence in the dashboard's timeline: code collapsed, Enter opens it
highlighted, evidence with its own badge (red when the candidate failed)."""

from __future__ import annotations

from rich.syntax import Syntax
from textual.widgets import Static

from logomesh_tui.conversation.messages import Artifact, LLMMessage, MessageType
from logomesh_tui.tui.widgets.timeline import TimelinePane

CODE = "export function clamp(x: number): number {\n  return x;\n}\n"


async def test_artifacts_collapse_and_open_highlighted_and_evidence_has_a_badge(app):
    async with app.run_test(size=(100, 30)) as pilot:
        timeline = app.query_one(TimelinePane)
        proposal = LLMMessage(from_role="primary-analyzer", content="Candidate C1",
                              message_type=MessageType.PROPOSAL, confidence=0.5,
                              short_id="m1", model_id="qwen2.5-coder-1.5b",
                              artifact=Artifact(kind="file", path="input.ts", text=CODE))
        verdict = LLMMessage(from_role="verifier", content="m1 fails tsc",
                             message_type=MessageType.EVIDENCE, confidence=1.0, short_id="m2",
                             references_to=[proposal.id],
                             evidence={"passed": False, "failed_checks": ["tsc"]})
        timeline.add_message(proposal)
        timeline.add_message(verdict)
        await pilot.pause()
        code_item = timeline.items_by_key[proposal.id]
        shown = code_item.render_entry().plain
        assert "input.ts · 3 lines" in shown and "return x" not in shown
        badge = timeline.items_by_key[verdict.id].render_entry()
        assert "EVIDENCE ✗" in badge.plain
        assert any("dark_red" in str(span.style) for span in badge.spans)
        timeline.focus()
        timeline.index = 0
        await pilot.press("enter")
        await pilot.pause()
        assert type(app.screen).__name__ == "MessageDetailScreen"
        body = app.screen.query_one("#detail-body").query_one(Static)
        renderables = getattr(body.content, "renderables", [])
        assert any(isinstance(r, Syntax) and "return x" in r.code for r in renderables)
