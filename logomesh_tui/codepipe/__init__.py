"""The code pipeline: models refactor TypeScript/React code, verified by the real compiler.

The checks themselves (toolchain, compiler, linter, behaviour harness, sandbox) live in
:mod:`logomesh_tui.verify`; tokens, chunks and patches of source text in
:mod:`logomesh_tui.source`; the model-call step (``ask``, token accounting) in
:mod:`logomesh_tui.conversation.executors`.

- ``measures``: static before/after measures (``python -m ...codepipe.measures FILE --json``)
- ``edits``: the lines a finding is about, search/replace edits, rule-based candidates
- ``pipeline``: findings -> small edits -> gate (tsc, findings, same DOM) (``run_refactor``)
- ``report``: the output folder (refactored files, changes.diff, rationale, docs, report)
"""
