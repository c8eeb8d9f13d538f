"""A grid run on real models: two assignments of the tiny models, one round each."""

import json

from logomesh_tui.cli.main import main
from tests.conftest import require_model

SCENARIO = """
prompt = "Name one problem in this component, in one sentence."
input_files = ["c.tsx"]
protocol = "round-robin"
arbitration = "first"
[roles]
primary-analyzer = "smollm2-135m"
architecture-critic = "smollm2-135m"
[limits]
max_rounds = 1
max_tokens = 24
n_ctx = 1024
turn_timeout_s = 120
"""


def test_a_real_grid_swaps_the_model_between_branches(tmp_path, capsys):
    for name in ("smollm2-135m", "gemma-3-270m"):
        require_model(name)
    (tmp_path / "c.tsx").write_text("export const C = (p: any) => <div>{p.x}</div>;\n")
    path = tmp_path / "s.toml"
    path.write_text(SCENARIO)
    sessions = tmp_path / "sessions"
    code = main(["--sessions-dir", str(sessions), "run", str(path), "--json",
                 "--grid", "primary-analyzer=smollm2-135m,gemma-3-270m"])
    captured = capsys.readouterr()
    assert code in (0, 1), captured.err[-2000:]
    doc = json.loads(captured.out)
    assert doc["fork_at"] == "start" and len(doc["branches"]) == 2
    speeds = [b["tokens_per_s"].get("primary-analyzer", {}) for b in doc["branches"]]
    assert [s.get("model") for s in speeds] == ["smollm2-135m", "gemma-3-270m"]
    assert all(b["tokens"] > 0 for b in doc["branches"])
    assert (sessions / f"grid-{doc['root']}.svg").exists()
