"""Scripted model replies for the refactor pipeline's tests (the pipeline itself, the
code.refactor command, ctrl+r in the dashboard): one script for every front end."""

from __future__ import annotations

import json
from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures"
FIXED = (FIXTURES / "Counter.fixed.tsx").read_text()


def scripted(proposal: str, repaired: str, synthesis: str):
    """A FakeBackend responder: every role analyses, proposes ``proposal``, answers a rejection
    with ``repaired``, synthesizes ``synthesis``, votes for P1 and approves."""

    def responder(req, backend):
        last = req.messages[-1]["content"]
        if req.json_schema and "vote" in req.json_schema["properties"]:
            return json.dumps({"vote": "P1", "critique": "P1 drops the derived state.",
                               "confidence": 0.8})
        if req.json_schema:
            return json.dumps({"approve": True, "comment": "Same behaviour, fewer renders."})
        if last.startswith("Analyse"):
            return "1. `doubled` is derived state copied in an effect.\n2. `label` is any."
        if last.startswith("Refactor this code"):
            return f"```tsx\n{proposal}```\nComputes doubled during render."
        if "rejected that version" in last:
            return f"```tsx\n{repaired}```"
        if last.startswith("Synthesize"):
            return f"```tsx\n{synthesis}```"
        return "`Counter` now computes `doubled` during render; `label` is a `string`."

    return responder


#: Every role agrees on the fixed Counter (derived state computed in render).
refactor_responder = scripted(FIXED, FIXED, FIXED)
