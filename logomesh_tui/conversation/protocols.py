"""Conversation protocols: who speaks in each round, what they are asked to do, when votes happen.

A protocol is a small object with ``plan(round_index, roles) -> RoundPlan | None``. The
orchestrator asks for round 1, 2, ... until the plan is ``None``, the round limit is reached or
the conversation converges. New protocols register themselves with :func:`register_protocol`;
nothing else has to change. A round run by a program (``RoundPlan.program``) needs that
program's runner: the layer that owns it registers it with :func:`register_program`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from ..errors import LogoMeshError
from .messages import MessageType

T = MessageType


@dataclass(frozen=True)
class RoundPlan:
    """One round: its name, the instruction each speaker gets, the types they may post.

    ``concurrent``: the speakers answer the same state at once (their turns may overlap);
    otherwise each speaker sees the replies of those before it in the round.
    ``vote``: each reply must carry a vote for one of the proposals so far.
    ``directed``: role -> recipients for that role's message (absent: broadcast).
    ``program``: the round is run by a program participant instead of model turns (``"evidence"``:
    the evidence engine; the speakers are the roles it may use).
    """

    index: int
    name: str
    instruction: str
    message_types: tuple[MessageType, ...]
    speakers: tuple[str, ...]
    concurrent: bool = True
    vote: bool = False
    directed: dict[str, tuple[str, ...]] = field(default_factory=dict)
    program: str = ""

    def recipients(self, role: str) -> list[str]:
        return list(self.directed.get(role, ()))


class ConversationProtocol:
    """Base class; subclasses set ``name``, ``description`` and implement :meth:`plan`."""

    name: str = ""
    description: str = ""
    default_rounds: int = 4

    def plan(self, round_index: int, roles: list[str]) -> RoundPlan | None:
        raise NotImplementedError

    def electorate(self, roles: list[str]) -> list[str]:
        """The roles whose support counts towards consensus (all of them by default)."""
        return list(roles)

    def __repr__(self) -> str:
        return f"<protocol {self.name}>"


class FourRound(ConversationProtocol):
    """The seed's protocol: propose, critique, synthesize, final review with a consensus vote.

    Rounds past the fourth repeat critique -> synthesis -> review, so a raised round limit gives
    a split conversation more chances to converge before a person is asked to arbitrate.
    """

    name = "four-round"
    description = "each proposes; critique each other; one synthesis; final review and vote"
    default_rounds = 4

    def plan(self, round_index: int, roles: list[str]) -> RoundPlan | None:
        if round_index == 1:
            return RoundPlan(
                1, "propose",
                "Round 1 - propose. From your role's point of view, propose the most important "
                "change, with a short reason.",
                (T.PROPOSAL, T.ANALYSIS), tuple(roles))
        phase = (round_index - 2) % 3
        if phase == 0:
            return RoundPlan(
                round_index, "critique",
                f"Round {round_index} - critique. Critique the other roles' proposals: name "
                "what is wrong or missing and cite the ids you criticise.",
                (T.CRITIQUE, T.QUESTION), tuple(roles))
        if phase == 1:
            return RoundPlan(
                round_index, "synthesize",
                f"Round {round_index} - synthesize. Merge the best ideas and the critiques into "
                "one unified proposal; cite the ids you build on.",
                (T.PROPOSAL,), tuple(roles[:1]))
        return RoundPlan(
            round_index, "review",
            f"Round {round_index} - final review. Review the proposals, state whether you "
            "agree and vote for the one proposal the team should adopt.",
            (T.CONSENSUS, T.CRITIQUE), tuple(roles), vote=True)


class RoundRobin(ConversationProtocol):
    """Open discussion: each role speaks in turn and sees everything said before it.

    Every round ends with a vote so the discussion can stop as soon as it converges.
    """

    name = "round-robin"
    description = "roles speak in turn, building on each other; each round ends in a vote"
    default_rounds = 3

    def plan(self, round_index: int, roles: list[str]) -> RoundPlan | None:
        if round_index == 1:
            return RoundPlan(
                1, "open",
                "Round 1 - give your analysis or proposal; build on the messages before yours.",
                (T.PROPOSAL, T.ANALYSIS, T.QUESTION), tuple(roles), concurrent=False)
        return RoundPlan(
            round_index, "discuss",
            f"Round {round_index} - continue the discussion: refine or support a proposal, "
            "cite what you build on, and vote for the proposal you back.",
            (T.CONSENSUS, T.PROPOSAL, T.CRITIQUE, T.QUESTION), tuple(roles),
            concurrent=False, vote=True)


class Debate(ConversationProtocol):
    """Two sides argue, the others judge.

    The first two roles propose competing answers and rebut each other (each rebuttal is
    addressed to the opponent and the judges); the remaining roles (or both debaters when there
    are only two) vote in the final round.
    """

    name = "debate"
    description = "two roles argue opposite proposals; the others judge and vote"
    default_rounds = 3

    def electorate(self, roles: list[str]) -> list[str]:
        # The debaters back their own proposals by construction; only the judges decide.
        return list(roles[2:]) or list(roles)

    def plan(self, round_index: int, roles: list[str]) -> RoundPlan | None:
        debaters = tuple(roles[:2])
        judges = tuple(roles[2:]) or debaters
        if round_index == 1:
            return RoundPlan(
                1, "opening",
                "Round 1 - opening statement. Propose your answer and defend it.",
                (T.PROPOSAL,), debaters)
        if round_index == 2 and len(debaters) == 2:
            a, b = debaters
            return RoundPlan(
                2, "rebuttal",
                "Round 2 - rebuttal. Critique your opponent's proposal and cite it.",
                (T.CRITIQUE,), debaters, concurrent=False,
                directed={a: (b,) + judges, b: (a,) + judges})
        return RoundPlan(
            round_index, "judgement",
            f"Round {round_index} - judgement. Weigh the proposals and rebuttals, then vote for "
            "the stronger proposal.",
            (T.CONSENSUS, T.CRITIQUE), judges, vote=True)


class EvidenceProtocol(ConversationProtocol):
    """Code grounded in evidence: candidates are judged by running them, then the team votes.

    Round 1 is run by the evidence engine (``logomesh_tui.evidence``): the roles' models write
    candidate files (artifacts) and probes, the verifier (a program: tsc --strict, eslint,
    probes under node in a sandbox) posts an evidence message on each candidate, and failing
    candidates are repaired from the verifier's facts. Round 2: every role reviews the evidence
    and votes; a vote for a candidate that failed verification counts for nothing, and a
    message without substance cannot lead.
    """

    name = "evidence"
    description = "models write code and probes; a verifier runs them; votes count only for code that passed"
    default_rounds = 2

    def plan(self, round_index: int, roles: list[str]) -> RoundPlan | None:
        if round_index == 1:
            return RoundPlan(
                1, "evidence",
                "Round 1 - candidates and evidence: write the changed file; the verifier "
                "compiles, lints and runs it.",
                (T.PROPOSAL,), tuple(roles), concurrent=False, program="evidence")
        if round_index == 2:
            return RoundPlan(
                2, "review",
                "Round 2 - review the evidence. The verifier's messages say which candidates "
                "compile, pass lint and behave as the probes expect. Vote for the candidate "
                "that passed its checks and does the task best; say why in one sentence, "
                "citing the evidence.",
                (T.CONSENSUS, T.CRITIQUE), tuple(roles), vote=True)
        return None


_REGISTRY: dict[str, Callable[[], ConversationProtocol]] = {}
ProgramRunner = Callable[[Any, RoundPlan, list[str]], Awaitable[None]]
_PROGRAMS: dict[str, ProgramRunner] = {}


def register_program(name: str, runner: ProgramRunner) -> None:
    """Make ``runner(session, plan, speakers)`` run the rounds whose ``program`` is ``name``
    (a program participant lives above the conversation layer and plugs in here)."""
    _PROGRAMS[name] = runner


def program_runner(name: str) -> ProgramRunner:
    """The runner registered for ``name``; a one-line error when none is."""
    if name not in _PROGRAMS:
        raise LogoMeshError(f"no program {name!r} is registered: call "
                            "logomesh_tui.evidence.program.register_evidence_program() (the CLI "
                            "and the dashboard do at start) before running this protocol")
    return _PROGRAMS[name]


def register_protocol(factory: Callable[[], ConversationProtocol], name: str | None = None) -> None:
    """Make a protocol available by name (scenarios and commands pick protocols by name)."""
    _REGISTRY[name or factory().name] = factory


def protocol_names() -> list[str]:
    """Every protocol's name, in the order they were registered (the seed's first)."""
    return list(_REGISTRY)


def get_protocol(name: str | ConversationProtocol) -> ConversationProtocol:
    """A fresh protocol object by name; raises a one-line error listing the valid names."""
    if isinstance(name, ConversationProtocol):
        return name
    key = name.strip().lower().replace("_", "-")
    aliases = {"fourround": "four-round", "four": "four-round", "seed": "four-round",
               "roundrobin": "round-robin"}
    key = aliases.get(key, key)
    if key not in _REGISTRY:
        raise LogoMeshError(
            f"unknown protocol {name!r}; choose one of: {', '.join(protocol_names())}")
    return _REGISTRY[key]()


for _factory in (FourRound, RoundRobin, Debate, EvidenceProtocol):
    register_protocol(_factory)
