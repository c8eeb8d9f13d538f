"""Scripted model replies for the refactor pipeline's tests (the pipeline itself, the
code.refactor command, ctrl+r in the dashboard): one script for every front end."""

from __future__ import annotations

from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures"
FIXED = (FIXTURES / "Counter.fixed.tsx").read_text()

#: The edit that fixes Counter.tsx's one finding (state copied in an effect): derive it.
DERIVE = """<<<<<<< SEARCH
  const [doubled, setDoubled] = useState(0);
  useEffect(() => {
    setDoubled(count * 2);
  }, [count]);
=======
  const doubled = count * 2;
>>>>>>> REPLACE"""


def scripted(*edits: str, doc: str = "`Counter` now computes `doubled` during render."):
    """A FakeBackend responder: edit turns get ``edits`` in turn (the last one repeats), the
    documentation turn gets ``doc``."""
    turns: list[int] = [0]

    def responder(req, backend):
        last = req.messages[-1]["content"]
        if last.startswith("In one sentence"):
            return doc
        reply = edits[min(turns[0], len(edits) - 1)]
        turns[0] += 1
        return reply

    return responder


#: Every edit turn derives Counter's doubled during render.
refactor_responder = scripted(DERIVE)
