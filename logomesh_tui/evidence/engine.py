"""The evidence engine: candidates from the models, probes from a tester, verdicts from programs.

One :meth:`EvidenceEngine.solve` call, for one :class:`CodeTask`:

1. the primary coder answers greedily (temperature 0); the examples the task states become
   asserting probes (:mod:`.examples`, a program), or, where it states none, the tester writes
   probes;
2. the verifier judges; if the answer passes everything, including at least
   ``early_stop_asserts`` assertions where the task states examples, stop (adaptive compute);
3. otherwise the primary answers again greedily in its other framings (the task worded
   differently: :data:`FRAMINGS`) and, if configured, samples at other seeds and
   temperatures; extra coders (only models whose measured pass rate pays off, see
   :mod:`.rates`) add theirs, all are judged and one is selected by execution
   (:mod:`.select`);
4. up to ``repair_rounds`` times, the selected answer goes back to the primary with the
   verifier's facts only (no free-text critique); the repair joins the candidates and selection
   runs again over everything seen, so the result is never worse than a candidate already seen;
   stop as soon as one passes everything or the token budget is spent, and do not repair when
   the only fact is "acts like the starter" (nothing concrete to fix from). A file copied back
   unchanged is not shown to the model again as its own answer: the task is put afresh, in
   another framing, with the facts in it. When what passes is a weaker model's answer with no
   assertion behind it, the primary's greedy answer is repaired from its facts once anyway,
   and on equal evidence the primary's answers win.

Everything the engine does is reported through ``on_event`` as typed records (a candidate, a
probe, evidence, a selection), so a conversation can post them as messages and a bench can store
them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from ..conversation.executors import StepFailed, TokenLedger, ask
from ..errors import LogoMeshError
from ..source.patches import extract_change, fenced_blocks
from .examples import example_probes
from .fit import fit_part, part_context
from .rates import Plan
from .select import Selection, select
from .types import Candidate, CodeTask, Evidence, Probe
from .verifier import Verifier

if TYPE_CHECKING:
    from ..conversation.context import TurnExecutor

CODER_SYSTEM = (
    "You are an expert TypeScript engineer. You change one file exactly as the task says. "
    "Reply with the complete new file in one ```ts code block and nothing after it. Keep every "
    "export the task mentions, with the same names. Do not add tests, examples, console output, "
    "or imports of test libraries such as node:assert: the file must compile with "
    "tsc --strict on its own.")
TESTER_SYSTEM = (
    "You are a careful tester. You do not fix code; you write a short TypeScript script that "
    "exercises it, so that different implementations can be told apart by what it prints.")
#: How the task is put to a coder. "direct": task, file, "reply with the file"; "plan": the
#: same, asking first for one sentence on what is wrong (small coders often copy the file back
#: unchanged when asked for it straight away); "code-first": the file, then the task.
FRAMINGS = ("direct", "plan", "code-first")
_EXPORT_RE = re.compile(r"^export\s+(?:default\s+)?(?:declare\s+)?(?:async\s+)?"
                        r"(?:function\*?|const|let|var|class|interface|type|enum)\s+[^\n{=]*",
                        re.M)

EngineEvent = tuple[str, Any]


@dataclass
class EvidenceConfig:
    """How much the engine may spend on one task."""

    # After the greedy answers (below), temperature samples from the primary and answers from
    # each extra coder. Each call costs a model turn; by default the primary's extra answer is
    # the greedy one in another framing instead of a sample.
    samples: int = 0
    temperatures: tuple[float, ...] = (0.7, 1.0, 0.5, 0.9)
    extra_coder_samples: int = 1
    probes: int = 1
    # Repair rounds; each stops as soon as a candidate passes. A conversation, with no per-task
    # time target, runs more (CONVERSATION_REPAIR_ROUNDS).
    repair_rounds: int = 1
    max_tokens: int = 700
    probe_max_tokens: int = 400
    token_budget: int = 12000
    seed: int = 7
    # Assertions the greedy answer must pass (all of them, and at least this many) to stop after
    # one call: a single stated example can let a wrong answer through.
    early_stop_asserts: int = 2
    # Where the task states no example (so every probe is the tester's, input-only), a greedy
    # answer that passes every check stops the loop too: more samples rarely change the
    # outcome there and each costs a model turn.
    stop_on_unasserted_pass: bool = True
    # The greedy answer's framing (see FRAMINGS), and the primary's further greedy answers in
    # other framings when the first does not pass: different wording, different answer.
    framing: str = "code-first"
    other_framings: tuple[str, ...] = ("direct",)


class EngineResult(BaseModel):
    """What :meth:`EvidenceEngine.solve` found: the chosen text and the full record."""

    chosen: Candidate | None = None
    candidates: list[Candidate] = Field(default_factory=list)
    probes: list[Probe] = Field(default_factory=list)
    evidence: dict[str, Evidence] = Field(default_factory=dict)
    selection: Selection | None = None
    stopped: str = ""
    rounds: int = 0

    @property
    def text(self) -> str | None:
        return self.chosen.text if self.chosen else None


@dataclass
class EvidenceEngine:
    """Runs the loop in the module docstring with real or scripted executors."""

    executors: Mapping[str, TurnExecutor]
    plan: Plan
    verifier: Verifier
    config: EvidenceConfig = field(default_factory=EvidenceConfig)
    ledger: TokenLedger = field(default_factory=TokenLedger)
    on_event: Callable[[EngineEvent], None] | None = None

    def _emit(self, kind: str, payload: Any) -> None:
        if self.on_event is not None:
            self.on_event((kind, payload))

    def _budget_left(self) -> int:
        return self.config.token_budget - self.ledger.total_tokens

    async def _call(self, role: str, messages: list[dict[str, str]], *, max_tokens: int,
                    temperature: float, seed: int) -> str | None:
        if self._budget_left() <= 0:
            return None
        try:
            result, _ = await ask(self.executors[role], role, messages, max_tokens=max_tokens,
                                  ledger=self.ledger, temperature=temperature, seed=seed,
                                  min_reply_tokens=48)
        except (StepFailed, LogoMeshError):
            # A window too small, a timed-out or failed worker: this call yields nothing and
            # the loop goes on with what it has.
            return None
        return result.text

    def task_prompt(self, task: CodeTask, framing: str | None = None, findings: str = "") -> str:
        """What a coder is told: the task, the other files' exports, the file, in one of
        :data:`FRAMINGS` (the engine's configured one by default); ``findings`` (the
        verifier's facts on an earlier answer) go right before the closing request."""
        framing = framing or self.config.framing
        if framing not in FRAMINGS:
            raise LogoMeshError(f"unknown framing {framing!r}; choose one of: "
                                f"{', '.join(FRAMINGS)}")
        support: list[str] = []
        for name, text in sorted(task.support.items()):
            exports = _EXPORT_RE.findall(text)
            if exports:
                support.append(f"{name} (do not change it) exports:")
                support += [f"  {e.strip()}" for e in exports[:20]]
                support.append("")
        if task.focus is None:
            code = [f"{task.file_name}:", f"```ts\n{task.starter.rstrip()}\n```"]
            what = f"the complete new {task.file_name}"
        else:
            first = task.starter[:task.focus[0]].count("\n") + 1
            context = part_context(task)
            code = [*context, *([""] if context else []),
                    f"Part of {task.file_name} (from line {first}; the rest of the file stays "
                    "as it is):", f"```ts\n{task.part.rstrip()}\n```"]
            what = "the complete new version of this part"
        if framing != "direct" and task.focus is None:
            code[0] = (f"The current {task.file_name} (it does not do what the task "
                       f"{'below ' if framing == 'code-first' else ''}asks yet):")
        found = [] if not findings else [
            "An earlier answer was checked automatically (the compiler, the linter, test "
            f"scripts under node). The checks report:\n{findings.strip()}", ""]
        if framing == "plan":
            return "\n".join([task.instruction.strip(), "", *support, *code, *found,
                              "First say in one short sentence what is wrong and what you will "
                              f"change. Then reply with {what} in one ```ts block."])
        if framing == "code-first":
            return "\n".join([*support, *code, "", "Task:", task.instruction.strip(), "", *found,
                              f"Reply with {what} in one ```ts block."])
        return "\n".join([task.instruction.strip(), "", *support, *code, *found,
                          f"Reply with {what} in one ```ts block."])

    async def propose(self, task: CodeTask, role: str, origin: str, temperature: float,
                      seed: int, messages: list[dict[str, str]] | None = None,
                      parent: str | None = None, n: int = 0,
                      framing: str | None = None) -> Candidate | None:
        """One candidate from ``role`` (the task prompt in ``framing`` unless ``messages`` are
        given), or None when the budget is spent, the call failed or the reply held no code."""
        framing = "" if messages else (framing or self.config.framing)
        messages = messages or [{"role": "system", "content": CODER_SYSTEM},
                                {"role": "user", "content": self.task_prompt(task, framing)}]
        reply = await self._call(role, messages, max_tokens=self.config.max_tokens,
                                 temperature=temperature, seed=seed)
        if reply is None:
            return None
        text, _ = extract_change(reply, task.part)
        if text is None:
            return None
        text = fit_part(task, text)
        cand = Candidate(id=f"C{n}", text=task.compose(text), author=role,
                         model_id=self.executors[role].model_id, origin=origin,
                         temperature=temperature, seed=seed, parent=parent, framing=framing)
        self._emit("candidate", cand)
        return cand

    async def _write_probes(self, task: CodeTask) -> list[Probe]:
        role = self.plan.tester or self.plan.primary
        others = ", ".join(f'"./{n.rsplit(".", 1)[0]}"' for n in sorted(task.support))
        prompt = (
            f"Task given to a developer:\n{task.instruction.strip()}\n\n"
            f"The current {task.file_name} (it may be buggy):\n```ts\n{task.part.rstrip()}\n```\n\n"
            f"Write a TypeScript script that imports from \"{task.module}\""
            + (f" (and, if needed, from {others})" if others else "")
            + " and calls the exported code with several inputs, including the edge cases the "
            "task mentions. Print every result with console.log. Only where the task states an "
            "exact expected result, check it with assert(condition, \"message\"); assert is "
            "already defined, do not import it. Do not copy or fix the implementation. "
            "Reply with the script in one ```ts block.")
        messages = [{"role": "system", "content": TESTER_SYSTEM},
                    {"role": "user", "content": prompt}]
        probes: list[Probe] = []
        for i in range(self.config.probes):
            reply = await self._call(role, messages, max_tokens=self.config.probe_max_tokens,
                                     temperature=0.0 if i == 0 else 0.8,
                                     seed=self.config.seed + 101 * i)
            if reply is None:
                continue
            code = [b for lang, b in fenced_blocks(reply) if b.strip()]
            if not code:
                continue
            # A script cut off at max_tokens ends mid-statement and would not parse: keep its
            # complete statements (a small tester's long lists of calls often run past the
            # limit).
            complete = complete_statements(max(code, key=len))
            if not complete.strip():
                continue
            probe = Probe(id=f"p{len(probes) + 1}", code=complete, author=role,
                          model_id=self.executors[role].model_id)
            probes.append(probe)
            self._emit("probe", probe)
        return probes

    async def _judge(self, result: EngineResult, new: list[Candidate]) -> None:
        if not new:
            return
        ev = await self.verifier.verify(new, result.probes)
        for c in new:
            result.evidence[c.id] = ev[c.id]
            self._emit("evidence", ev[c.id])

    def _select(self, result: EngineResult) -> Selection:
        greedy = next((c.id for c in result.candidates if c.origin == "greedy"), None)
        primary = {c.id for c in result.candidates if c.author == self.plan.primary}
        sel = select(result.candidates, result.evidence, preferred=greedy, stronger=primary)
        result.selection = sel
        result.chosen = next((c for c in result.candidates if c.id == sel.chosen), None)
        self._emit("selection", sel)
        return sel

    def _passing(self, result: EngineResult) -> bool:
        return result.chosen is not None and result.evidence[result.chosen.id].passes_all

    async def solve(self, task: CodeTask) -> EngineResult:
        """Generate, verify, select and repair for one task; see the module docstring."""
        run = _Solving(task)
        result = run.result
        run.first = await self._add(run, self.plan.primary, "greedy", 0.0, self.config.seed)
        await self._probe(run)
        await self._judge(result, [run.first] if run.first else [])
        self._select(result)
        if self._stops_early(result):
            result.stopped = "the greedy answer passes every check"
            return result
        await self._widen(run)
        await self._repair(run)
        result.stopped = self._stop_reason(result)
        return result

    async def _add(self, run: _Solving, role: str, origin: str, temperature: float, seed: int,
                   **kw: Any) -> Candidate | None:
        """A candidate from ``role`` (see :meth:`propose`), kept among the run's candidates."""
        cand = await self.propose(run.task, role, origin, temperature, seed, n=next(run.numbers),
                                  **kw)
        if cand is not None:
            run.result.candidates.append(cand)
        return cand

    async def _probe(self, run: _Solving) -> None:
        """The examples the task states, asserted by a program: when there are any, the greedy
        answer is judged on them before anyone else is asked, and the tester is not needed."""
        result = run.result
        result.probes = example_probes(run.task)
        for probe in result.probes:
            self._emit("probe", probe)
        if not result.probes:
            result.probes = await self._write_probes(run.task)

    def _stops_early(self, result: EngineResult) -> bool:
        """Stopping at the first answer needs behavioural evidence: assertions it passed (two or
        more by default). With input-only probes (or none) a lone answer has nothing to agree
        or disagree with, so samples are drawn and compared (testers often write expectations
        as comments, and a wrong greedy answer then "passes everything")."""
        stated = any(p.author == "verifier" for p in result.probes)
        return self._passing(result) and result.chosen is not None and (
            result.evidence[result.chosen.id].asserts_total >= self.config.early_stop_asserts
            or (self.config.stop_on_unasserted_pass and not stated))

    async def _widen(self, run: _Solving) -> None:
        """The primary's other framings and samples and the extra coders' answers, judged
        together; selection runs over everything seen."""
        cfg = self.config
        batch = []
        for framing in cfg.other_framings:
            c = await self._add(run, self.plan.primary, "greedy-framed", 0.0, cfg.seed,
                                framing=framing)
            if c:
                batch.append(c)
        for i in range(cfg.samples):
            t = cfg.temperatures[i % len(cfg.temperatures)]
            c = await self._add(run, self.plan.primary, "sample", t, cfg.seed + 1 + i)
            if c:
                batch.append(c)
        for role in self.plan.extra_coders:
            for i in range(cfg.extra_coder_samples):
                c = await self._add(run, role, "greedy-extra" if i == 0 else "sample",
                                    0.0 if i == 0
                                    else cfg.temperatures[(i - 1) % len(cfg.temperatures)],
                                    cfg.seed + 50 + i)
                if c:
                    batch.append(c)
        await self._judge(run.result, batch)
        self._select(run.result)

    async def _repair(self, run: _Solving) -> None:
        """Up to ``repair_rounds`` repairs from the verifier's facts; each joins the candidates
        and selection runs again, so the result never gets worse."""
        result, cfg = run.result, self.config
        last_repair: Candidate | None = None
        repaired: set[str] = set()
        for rnd in range(cfg.repair_rounds):
            if result.chosen is None or self._budget_left() <= 0:
                break
            base = self._repair_base(run, rnd, result.chosen, last_repair)
            if base is None:
                break
            ev = result.evidence[base.id]
            # Repair needs a concrete fact (see _concrete).
            if not _concrete(ev):
                result.stopped = "nothing concrete to repair: best-so-far kept"
                break
            result.rounds = rnd + 1
            facts = ev.facts(source=base.text)
            again = base.id in repaired
            repaired.add(base.id)
            temperature = 0.7 if again else 0.0
            messages = self._repair_messages(run.task, base, facts, afresh=ev.unchanged or again)
            c = await self._add(run, self.plan.primary, "repair", temperature,
                                cfg.seed + 200 + rnd, messages=messages, parent=base.id)
            if c is None:
                break
            last_repair = c
            await self._judge(result, [c])
            self._select(result)

    def _repair_base(self, run: _Solving, rnd: int, chosen: Candidate,
                     last_repair: Candidate | None) -> Candidate | None:
        """The answer to repair in round ``rnd`` (None: stop repairing).

        A later round goes on from the last repair when it changed something (it fixed its
        parent's facts and may have made new ones); selection still runs over everything seen.
        When what passes is a weaker model's answer with no assertion behind it (weak evidence)
        and the primary's greedy answer failed on a concrete fact, that answer is repaired once
        too and both compete."""
        result, first = run.result, run.first
        base = chosen
        parent = next((c for c in result.candidates
                       if last_repair is not None and c.id == last_repair.parent), None)
        if (last_repair is not None and not self._passing(result)
                and _concrete(result.evidence[last_repair.id])
                and (parent is None or last_repair.text != parent.text)):
            base = last_repair
        if self._passing(result):
            if (first is None or base.author == self.plan.primary or rnd > 0
                    or result.evidence[base.id].asserts_total > 0
                    or not _concrete(result.evidence[first.id])):
                return None
            base = first
        return base

    def _repair_messages(self, task: CodeTask, base: Candidate, facts: str, *,
                         afresh: bool) -> list[dict[str, str]]:
        """The repair turn: the answer as the model's own turn and the facts after it, or, for
        a file copied back unchanged or an answer repaired before (``afresh``), the task put
        afresh in the "plan" framing with the facts in it: shown its copy again as its own
        turn, a model copies it again, and asked the same way again it repeats its repair."""
        if afresh:
            return [{"role": "system", "content": CODER_SYSTEM},
                    {"role": "user", "content": self.task_prompt(task, "plan", findings=facts)}]
        return [
            {"role": "system", "content": CODER_SYSTEM},
            {"role": "user", "content": self.task_prompt(task)},
            {"role": "assistant", "content": f"```ts\n{_part_of(task, base.text)}\n```"},
            {"role": "user", "content": (
                "Automatic checks ran on your file (the compiler, the linter, and "
                "test scripts run under node). They report:\n"
                f"{facts}\n\n"
                f"Fix {task.file_name} so these checks pass and the task is done. "
                f"Reply with the complete corrected {task.file_name} in one ```ts block.")}]

    def _stop_reason(self, result: EngineResult) -> str:
        if self._passing(result):
            return "a candidate passes every check"
        if result.stopped:
            return result.stopped
        if self._budget_left() <= 0:
            return "token budget spent"
        return "repair rounds spent: best-so-far kept"


@dataclass
class _Solving:
    """One :meth:`EvidenceEngine.solve` call: its task, its record so far, the primary's greedy
    answer, and the numbers for its candidates."""

    task: CodeTask
    result: EngineResult = field(default_factory=EngineResult)
    first: Candidate | None = None
    numbers: Iterator[int] = field(default_factory=lambda: iter(range(1, 10_000)))


def _concrete(ev: Evidence) -> bool:
    """Whether ``ev`` holds a fact a repair can work from: a diagnostic, a failed assertion, a
    probe that threw. "Acts like the starter" alone is not one (repairs from it alone do not
    pass, and for type and refactor tasks acting alike is the point)."""
    return bool(set(ev.failed_checks()) - {"behaves-like-starter"}
                or any(r.status in ("assert-failed", "threw", "timed-out", "killed")
                       for r in ev.probes))


def complete_statements(code: str) -> str:
    """``code`` up to its last complete top-level statement: the whole text when every bracket,
    string and comment closes, else the lines up to the last one that ends a statement (``;``,
    ``}`` or ``)``) with every bracket closed."""
    depth, quote, block_comment = 0, "", False
    last_end = 0
    pos = 0
    for line in code.splitlines(keepends=True):
        i = 0
        while i < len(line):
            ch = line[i]
            if block_comment:
                if line.startswith("*/", i):
                    block_comment, i = False, i + 1
            elif quote:
                if ch == "\\":
                    i += 1
                elif ch == quote:
                    quote = ""
            elif line.startswith("//", i):
                break
            elif line.startswith("/*", i):
                block_comment, i = True, i + 1
            elif ch in "\"'`":
                quote = ch
            elif ch in "([{":
                depth += 1
            elif ch in ")]}":
                depth -= 1
            i += 1
        if quote in "\"'":
            quote = ""  # a plain string does not span lines: the line was cut inside one
        pos += len(line)
        stripped = line.split("//", 1)[0].rstrip()
        if depth == 0 and not quote and not block_comment and stripped.endswith((";", "}", ")")):
            last_end = pos
    if depth == 0 and not quote and not block_comment:
        return code
    return code[:last_end]


def _part_of(task: CodeTask, text: str) -> str:
    """The rewritten part of a whole-file candidate (the whole text without a focus)."""
    if task.focus is None:
        return text.rstrip()
    a, b = task.focus
    end = len(text) - (len(task.starter) - b)
    return text[a:end].rstrip()
