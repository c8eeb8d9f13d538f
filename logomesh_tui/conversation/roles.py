"""The seed's four roles: their names (in speaking order) and what each is asked to do.

The one place the role names are written; the command table, completion, the dashboard's
registry, the code pipeline and the benchmarks import them from here. Any other name is a valid
role too (``llm.registry.load(model, "my-role")``); these are the ones offered by default.
"""

from __future__ import annotations

ROLE_DESCRIPTIONS: dict[str, str] = {
    "primary-analyzer": "You lead the analysis: find the most important problems (performance, "
                        "correctness, type safety) and propose concrete fixes.",
    "architecture-critic": "You judge structure and design: components, hooks, separation of "
                           "concerns. Challenge proposals that add complexity.",
    "optimization-specialist": "You focus on performance: renders, effects, memoisation, "
                               "algorithmic cost. Say what to measure first.",
    "documentation-writer": "You make changes understandable: rationale, comments, docs and "
                            "naming for each proposed change.",
}

SEED_ROLES: tuple[str, ...] = tuple(ROLE_DESCRIPTIONS)
"""The seed's roles, in the order they speak in a round."""
