"""The code pipeline: models refactor TypeScript/React code, verified by the real compiler.

- ``toolchain``: installs and finds the project's own tsc (``python -m ...codepipe.toolchain``)
- ``compiler``: type-checks sources and parses diagnostics
- ``lexer`` / ``splitter``: tokens, and chunks that fit small windows (reassembled exactly)
- ``measures``: static before/after measures (``python -m ...codepipe.measures FILE --json``)
- ``patches``: fenced code and unified diffs from model replies, import merging
- ``executors``: the TurnExecutor surface and token accounting
- ``lint``: eslint findings (react-hooks incl. React Compiler rules, type-aware typescript-eslint)
- ``harness`` (+ ``harness.js``): the component rendered under jsdom in the sandbox, step by step
- ``edits``: the lines a finding is about, search/replace edits, rule-based candidates
- ``pipeline``: findings -> small edits -> gate (tsc, findings, same DOM) (``run_refactor``)
- ``report``: the output folder (refactored files, changes.diff, rationale, docs, report)
"""
