"""Selection by execution (CodeT, arXiv 2207.10397; MBR-exec, arXiv 2204.11454).

1. Drop candidates that do not compile, that leave the file unchanged, or that act like the
   known-bad starter on every probe (when some other candidate acts differently).
2. Group the rest by behaviour: identical output on every probe.
3. Rank each group by (its size) × (1 + assertions its members pass), then prefer a group whose
   members pass everything, then fewer lint findings.
4. Within the winning group, prefer the member passing most assertions, then the preferred
   candidate (the strongest model's greedy answer), then fewer lint findings, then the
   strongest model's other answers, then the earliest; whenever there is no evidence either
   way, the preferred candidate. Groups with equal standing are ordered the same way.
"""

from __future__ import annotations

from collections import defaultdict

from pydantic import BaseModel, Field

from .types import Candidate, Evidence


class Selection(BaseModel):
    """The chosen candidate and why."""

    chosen: str | None
    reason: str
    groups: list[list[str]] = Field(default_factory=list)
    scores: dict[str, float] = Field(default_factory=dict)
    dropped: dict[str, str] = Field(default_factory=dict)


def select(candidates: list[Candidate], evidence: dict[str, Evidence],
           preferred: str | None = None, stronger: set[str] | None = None) -> Selection:
    """Pick one candidate by execution evidence; see the module docstring for the rule.
    ``preferred`` is the strongest model's greedy answer, ``stronger`` all of that model's
    candidates: on equal evidence they come first, in that order."""
    if not candidates:
        return Selection(chosen=None, reason="no candidates")
    order = {c.id: i for i, c in enumerate(candidates)}
    stronger = stronger or set()

    def tiebreak(cid: str) -> tuple[int, int]:
        return (0 if cid == preferred else 1 if cid in stronger else 2, order[cid])

    dropped: dict[str, str] = {}
    alive = []
    for c in candidates:
        ev = evidence.get(c.id)
        if ev is None:
            dropped[c.id] = "not verified"
        elif ev.unchanged:
            dropped[c.id] = "unchanged"
        elif not ev.compiles:
            dropped[c.id] = "does not compile"
        else:
            alive.append(c.id)
    if not alive:
        fallback = preferred if preferred in order else candidates[0].id
        why = ("no candidate changes the file" if all(d == "unchanged" for d in dropped.values())
               else "no changed candidate compiles")
        return Selection(chosen=fallback, dropped=dropped,
                         reason=f"{why}: kept the strongest model's greedy answer")
    differs = [cid for cid in alive if not evidence[cid].same_as_starter]
    if differs and len(differs) < len(alive):
        for cid in alive:
            if evidence[cid].same_as_starter:
                dropped[cid] = "acts like the starter"
        alive = differs
    groups: dict[tuple[str, ...], list[str]] = defaultdict(list)
    for cid in alive:
        groups[evidence[cid].signature].append(cid)
    scores: dict[str, float] = {}
    ranked = []
    for members in groups.values():
        # Within one behaviour, the strongest model's greedy answer stays unless another
        # member passes more assertions: a member that only lints cleaner may have deleted
        # behaviour the probes did not see (a call the linter flagged) as often as it fixed
        # anything. Lint orders the other members.
        best = min(members, key=lambda cid: (-evidence[cid].asserts_passed,
                                             *(tiebreak(cid)[:1]),
                                             len(evidence[cid].lint_errors), tiebreak(cid)))
        ev = evidence[best]
        score = len(members) * (1 + ev.asserts_passed)
        for cid in members:
            scores[cid] = float(score)
        ranked.append(((-int(ev.passes_all), -score, len(ev.lint_errors), *tiebreak(best)),
                       best, members))
    ranked.sort()
    _, chosen, members = ranked[0]
    informative = len(groups) > 1 or any(evidence[c].asserts_total for c in alive) or dropped
    reason = (f"largest agreeing group ({len(members)} of {len(alive)}) with "
              f"{evidence[chosen].asserts_passed}/{evidence[chosen].asserts_total} assertions"
              if informative else "no evidence either way: the strongest model's greedy answer"
              if chosen == preferred else "no evidence either way: the first compiling answer")
    return Selection(chosen=chosen, reason=reason, groups=[m for _, _, m in ranked],
                     scores=scores, dropped=dropped)
