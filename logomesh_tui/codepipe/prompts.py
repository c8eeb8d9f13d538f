"""What the pipeline says to each role. Short, because the windows are 2k-8k tokens."""

from __future__ import annotations

from typing import Any

CONCERNS = ["performance bottlenecks", "code maintainability", "TypeScript type safety",
            "architectural improvements"]

ROLE_FOCUS = {
    "primary-analyzer": "TypeScript type safety: replace `any` with precise types, handle "
                        "null/undefined, keep behaviour identical",
    "architecture-critic": "architecture and maintainability: clear names, small pieces, extract "
                           "custom hooks or pure helpers, less prop drilling",
    "optimization-specialist": "React performance: correct effect dependencies, compute derived "
                               "values during render instead of copying them into state, useMemo/"
                               "useCallback for expensive work and for props passed to children, "
                               "clean up intervals and listeners",
    "documentation-writer": "clarity and documentation of the code's intent",
}
DEFAULT_FOCUS = "all four concerns: " + ", ".join(CONCERNS)

SYSTEM = ("You are {role}, one of several models refactoring a TypeScript/React codebase "
          "together. Your focus: {focus}. Be concrete and brief.")


def system(role: str) -> dict[str, str]:
    return {"role": "system",
            "content": SYSTEM.format(role=role, focus=ROLE_FOCUS.get(role, DEFAULT_FOCUS))}


def code_block(text: str, lang: str = "tsx") -> str:
    return f"```{lang}\n{text.rstrip()}\n```"


def analysis(chunk_label: str, context: str, code: str, findings: str) -> str:
    ctx = f"\n{context}\n" if context else ""
    return (f"Analyse this code ({chunk_label}) for {', '.join(CONCERNS)}.{ctx}\n"
            f"{code_block(code)}\n"
            f"A static scan found:\n{findings or 'nothing specific'}\n"
            "List the 2-4 most important problems, one line each, most important first.")


def proposal(chunk_label: str, context: str, code: str, analysis_text: str,
             findings: str = "", task: str = "") -> str:
    ctx = f"\n{context}\n" if context else ""
    scan = f"The static scan found:\n{findings}\n" if findings else ""
    todo = f"Your task: fix this first - {task}\n" if task else ""
    return (f"Refactor this code ({chunk_label}).{ctx}\n{code_block(code)}\n{scan}"
            f"Problems found so far:\n{analysis_text.strip() or '(none listed)'}\n\n{todo}"
            "Reply with the complete new version of exactly this code in one ```tsx block "
            "(it replaces the block above; keep every export and the behaviour; the rest of the "
            "file stays as it is). After the block, one sentence saying what you changed.")


def repair(diagnostics: str) -> str:
    return ("The TypeScript compiler (tsc --strict) rejected that version:\n"
            f"{diagnostics}\n\nFix these errors. Reply with the complete corrected code in one "
            "```tsx block.")


def retry(reason: str) -> str:
    return (f"That reply could not be used: {reason}. Fix at least one of the problems listed "
            "above and reply with the complete changed code in one ```tsx block.")


def critique(chunk_label: str, proposals: list[tuple[str, str, str]]) -> str:
    body = "\n\n".join(f"Proposal {pid} (by {role}):\n{code_block(diff, 'diff')}"
                       for pid, role, diff in proposals)
    return (f"Other models proposed these changes to {chunk_label}; each compiles.\n\n{body}\n\n"
            "Critique them from your focus and vote for the best one. Answer in JSON: "
            '{"vote": "<proposal id>", "critique": "<one or two sentences>", "confidence": 0-1}')


def synthesis(chunk_label: str, context: str, original: str, base: str, critiques: str) -> str:
    ctx = f"\n{context}\n" if context else ""
    return (f"Synthesize the final refactor of {chunk_label}.{ctx}\nOriginal:\n"
            f"{code_block(original)}\nBest-voted proposal:\n{code_block(base)}\n"
            f"Critiques:\n{critiques.strip() or '(none)'}\n\n"
            "Reply with the complete final code in one ```tsx block: the proposal improved by "
            "the critiques. Keep every export and the behaviour.")


def review(chunk_label: str, diff: str) -> str:
    return (f"Review this final change to {chunk_label}. It compiles under tsc --strict.\n"
            f"{code_block(diff, 'diff')}\n"
            "Does it keep the behaviour and improve the code? Answer in JSON: "
            '{"approve": true|false, "comment": "<one sentence>"}')


def documentation(chunk_label: str, diff: str, rationale: str) -> str:
    return (f"Write short documentation (3-5 sentences, Markdown) for this change to "
            f"{chunk_label}: what changed, why, and anything a maintainer must know. Name the "
            "functions and variables exactly as in the code, in `backticks`.\n"
            f"{code_block(diff, 'diff')}\nRationale: {rationale}")


CRITIQUE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "vote": {"type": "string"},
        "critique": {"type": "string"},
        "confidence": {"type": "number"},
    },
    "required": ["vote", "critique", "confidence"],
}

REVIEW_SCHEMA = {
    "type": "object",
    "properties": {"approve": {"type": "boolean"}, "comment": {"type": "string"}},
    "required": ["approve", "comment"],
}


def critique_schema(ids: list[str]) -> dict:
    schema = {**CRITIQUE_SCHEMA, "properties": dict(CRITIQUE_SCHEMA["properties"])}
    schema["properties"]["vote"] = {"type": "string", "enum": ids}
    return schema
