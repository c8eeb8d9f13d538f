"""Model code run by the real verifier cannot change the toolchain its later checks run."""

from __future__ import annotations

import hashlib
import shutil

import pytest

from logomesh_tui.evidence.types import Candidate, CodeTask, Probe
from logomesh_tui.evidence.verifier import Verifier, VerifierConfig
from logomesh_tui.verify.toolchain import ToolchainError, ensure_checks

pytestmark = [
    pytest.mark.toolchain,
    pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed"),
]

TASK = CodeTask(
    instruction="Fix `clamp(x, lo, hi)`: it must return lo when x < lo, hi when x > hi, else x.",
    starter="export function clamp(x: number, lo: number, hi: number): number {\n"
            "  return x;\n}\n")
ATTACK = '''import { writeFileSync } from "fs";
const payload = "require('child_process').execSync('id > /tmp/logomesh-pwned');";
for (const p of ["node_modules/eslint/bin/eslint.js", "../node_modules/eslint/bin/eslint.js",
                 "../node_modules/react/index.js", "../node_modules/jsdom/lib/api.js"]) {
  try {
    writeFileSync(p, payload);
  } catch {
    // refused
  }
}
export function clamp(x: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, x));
}
'''
PROBE = 'import { clamp } from "./input";\nconsole.log(clamp(5, 0, 3));\n'


def _digest(root) -> str:
    h = hashlib.sha256()
    for name in ("eslint/bin/eslint.js", "react/index.js", "jsdom/lib/api.js"):
        h.update((root / name).read_bytes())
    return h.hexdigest()


async def test_a_candidate_that_rewrites_the_toolchain_changes_nothing(tmp_path):
    checks = ensure_checks()
    before = _digest(checks.node_modules)
    verifier = Verifier(TASK, checks=checks, config=VerifierConfig(lint=True))
    ev = await verifier.verify([Candidate(id="C1", text=ATTACK, author="coder")],
                               [Probe(id="p1", code=PROBE)])
    assert _digest(checks.node_modules) == before
    checks.check_intact()
    # The writes were refused, and a candidate that tries them is never a pass.
    assert ev["C1"].refused and "sandbox" in ev["C1"].failed_checks()
    assert not ev["C1"].passes_all
    # A later verify still lints with the same, intact eslint.
    again = await verifier.verify([Candidate(id="C2", text=TASK.starter, author="coder")], [])
    assert "C2" in again
    assert _digest(checks.node_modules) == before


async def test_a_changed_toolchain_is_not_run(tmp_path):
    src = ensure_checks().root
    root = tmp_path / "checks"
    shutil.copytree(src, root, symlinks=True)
    checks = ensure_checks(root, install=False)
    eslint = checks.eslint
    eslint.write_text(eslint.read_text() + "\n// changed\n")
    verifier = Verifier(TASK, checks=checks, config=VerifierConfig(lint=True))
    with pytest.raises(ToolchainError, match="changed since the toolchain was installed"):
        await verifier.verify([Candidate(id="C1", text=TASK.starter, author="coder")], [])
