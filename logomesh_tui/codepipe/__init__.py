"""The code pipeline: models refactor TypeScript/React code, verified by the real compiler.

The checks themselves (toolchain, compiler, linter, behaviour harness, sandbox) live in
:mod:`logomesh_tui.verify`.

- ``lexer`` / ``splitter``: tokens, and chunks that fit small windows (reassembled exactly)
- ``measures``: static before/after measures (``python -m ...codepipe.measures FILE --json``)
- ``patches``: fenced code and unified diffs from model replies, import merging
- ``executors``: the TurnExecutor surface and token accounting
- ``edits``: the lines a finding is about, search/replace edits, rule-based candidates
- ``pipeline``: findings -> small edits -> gate (tsc, findings, same DOM) (``run_refactor``)
- ``report``: the output folder (refactored files, changes.diff, rationale, docs, report)
"""
