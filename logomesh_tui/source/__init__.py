"""TypeScript/TSX source as text: the pieces every code-reading part of the engine shares.

A leaf package: it imports nothing of the engine but :mod:`logomesh_tui.errors`, so the code
pipeline (:mod:`logomesh_tui.codepipe`) and the evidence engine (:mod:`logomesh_tui.evidence`)
both build on it without importing each other.

- ``lexer``: tokens (comments, strings, template and regex literals), bracket matching
- ``splitter``: top-level items, and chunks that fit small windows (reassembled exactly)
- ``patches``: fenced code and unified diffs from model replies, import merging
"""
