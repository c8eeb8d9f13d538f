"""The code pipeline: models refactor TypeScript/React code, verified by the real compiler.

- ``toolchain``: installs and finds the project's own tsc (``python -m ...codepipe.toolchain``)
- ``compiler``: type-checks sources and parses diagnostics
- ``lexer`` / ``splitter``: tokens, and chunks that fit small windows (reassembled exactly)
- ``measures``: static before/after measures (``python -m ...codepipe.measures FILE --json``)
- ``patches``: fenced code and unified diffs from model replies, import merging
- ``executors``: the TurnExecutor surface and token accounting
- ``pipeline``: analysis, proposals, critiques, synthesis, review, compile loop (``run_refactor``)
- ``report``: the output folder (refactored files, changes.diff, rationale, docs, report)
"""
