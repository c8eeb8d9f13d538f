"""The verification layer: every check LogoMesh runs on code, and the walls it runs them in.

- ``sandbox`` (+ ``preload.cjs``): model-written JavaScript under node, behind kernel namespaces,
  node's permission model and a preload (threat model: docs/sandbox.md)
- ``toolchain``: LogoMesh's own tsc and check packages, installed and sealed
  (``python -m logomesh_tui.verify.toolchain``)
- ``compiler``: type-checks sources and parses tsc's diagnostics
- ``lint``: eslint findings (react-hooks, type-aware typescript-eslint)
- ``harness`` (+ ``harness.js``): a component rendered under jsdom in the sandbox, step by step
- ``project``: the user's project around a file (root, tsconfig, eslint, test runner, the tests
  that cover a module)
- ``workspace``: a private copy of that project in which its own tools run, in the sandbox
- ``project_checks``: the project's tsc, eslint and covering tests before and after a change

It imports nothing from the rest of the package but ``errors``.
"""
