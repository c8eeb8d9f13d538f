"""code.refactor through the dispatcher: scripted fake models, the real tsc, and the errors."""

from __future__ import annotations

import threading

import pytest

from logomesh_tui.commands import CommandContext, Dispatcher, complete
from logomesh_tui.commands.refactor import output_dir
from logomesh_tui.config import EngineConfig
from logomesh_tui.errors import LogoMeshError
from logomesh_tui.pool.engine import HotSwapEngine
from logomesh_tui.pool.fake import FakeBackend
from logomesh_tui.sessions.store import SessionStore
from logomesh_tui.verify.toolchain import ensure_tsc
from tests.codepipe.scripted import FIXED, FIXTURES, refactor_responder


@pytest.fixture(scope="module")
def toolchain():
    """The project's tsc (installed on first use; a missing node fails with the reason)."""
    return ensure_tsc()


@pytest.fixture
async def engine():
    eng = HotSwapEngine(EngineConfig(memory_budget=10_000_000_000, n_ctx=4096),
                        backend_factory=lambda model_id, config: FakeBackend(
                            model_id, n_ctx=4096, responder=refactor_responder))
    yield eng
    await eng.close()


@pytest.fixture
def dispatcher(engine, tmp_path):
    return Dispatcher(CommandContext(engine=engine, refactor_dir=tmp_path / "refactor-out",
                                     sessions_dir=tmp_path / "sessions"))


async def load_pool(dispatcher):
    r = await dispatcher.run('llm.registry.load("qwen2.5-coder-1.5b", "primary-analyzer"); '
                             'llm.registry.load("smollm2-135m", "documentation-writer")')
    assert r.ok, r.error


@pytest.mark.toolchain
async def test_refactor_writes_the_output_folder_and_streams_progress(
        dispatcher, engine, tmp_path, toolchain):
    await load_pool(dispatcher)
    seen: list[tuple[str, bool]] = []
    main = threading.get_ident()
    result = await dispatcher.run(f'code.refactor("{FIXTURES / "Counter.tsx"}", '
                                  f'output="refactor-out/counter run")',
                                  on_output=lambda lines: seen.extend(
                                      (ln, threading.get_ident() == main) for ln in lines))
    assert result.ok, result.error
    out = tmp_path / "refactor-out" / "counter-run"
    report = (out / "report.md").read_text()
    assert "the result compiles" in report
    assert (out / "refactored" / "Counter.tsx").read_text().strip() == FIXED.strip()
    assert "-  const [doubled, setDoubled] = useState(0);" in (out / "changes.diff").read_text()
    summary = result.lines[-1]
    assert "compiles yes" in summary and "1 of 1 change(s) kept" in summary
    assert str(out) in summary
    # Progress came through on_output before the summary, always on the caller's loop thread.
    lines = [ln for ln, _ in seen]
    assert any(ln.startswith("[1/1]") for ln in lines), lines
    assert lines[-1] == summary and all(on_main for _, on_main in seen)
    # The run is a recorded session, named in the summary.
    sid = summary.rsplit("session ", 1)[1]
    kinds = [e.kind for e in SessionStore(tmp_path / "sessions").read(sid).events]
    assert kinds[0] == "session_started" and kinds[-1] == "session_finished"


@pytest.mark.toolchain
async def test_default_output_is_named_after_the_file(dispatcher, tmp_path, toolchain):
    await load_pool(dispatcher)
    result = await dispatcher.run(f'code.refactor("{FIXTURES / "Counter.tsx"}")')
    assert result.ok, result.error
    assert (tmp_path / "refactor-out" / "Counter" / "report.md").is_file()


async def test_error_cases_are_one_line(dispatcher, tmp_path, monkeypatch):
    ts = str(FIXTURES / "Counter.tsx")
    r = await dispatcher.run(f'code.refactor("{ts}")')
    assert not r.ok and r.error.startswith("code.refactor: no role is loaded")
    await load_pool(dispatcher)
    r = await dispatcher.run('code.refactor("no/such/File.tsx")')
    assert not r.ok and "does not exist" in r.error and "\n" not in r.error
    (tmp_path / "notes.py").write_text("x = 1\n")
    r = await dispatcher.run(f'code.refactor("{tmp_path / "notes.py"}")')
    assert not r.ok and "is not a TypeScript file" in r.error
    for bad in ("../escape", "/etc/x", "refactor-out/../../x", ".hidden", "a/b", "~x"):
        r = await dispatcher.run(f'code.refactor("{ts}", output="{bad}")')
        assert not r.ok and r.error.startswith("code.refactor: output"), (bad, r.error)
    r = await dispatcher.run('code.refactor("")')
    assert not r.ok and "'path' is empty" in r.error
    # No node on PATH: the toolchain check says what to install; nothing is written.
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    monkeypatch.setenv("LOGOMESH_TS_DIR", str(tmp_path / "no-ts"))
    r = await dispatcher.run(f'code.refactor("{ts}")')
    assert not r.ok and "node is not installed" in r.error, r.error
    assert not (tmp_path / "refactor-out").exists()


async def test_no_engine_is_an_error():
    r = await Dispatcher(CommandContext()).run('code.refactor("x.tsx")')
    assert not r.ok and "no model pool" in r.error


def test_output_dir_stays_inside_its_root(tmp_path):
    root = tmp_path / "refactor-out"
    assert output_dir("src/App.tsx", None, root) == root / "App"
    assert output_dir("x.tsx", "refactor-out/my run!", root) == root / "my-run"
    assert output_dir("x.tsx", "plain", root) == root / "plain"
    for bad in ("..", "../x", "/abs", "x/../../y", "C:\\x", "."):
        with pytest.raises(LogoMeshError):
            output_dir("x.tsx", bad, root)


def test_completion_offers_the_command_and_typescript_paths(tmp_path, monkeypatch):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "App.tsx").write_text("")
    (tmp_path / "src" / "notes.py").write_text("")
    monkeypatch.chdir(tmp_path)
    assert complete("code.re") == ["code.refactor("]
    assert complete('code.refactor("sr') == ['code.refactor("src/']
    assert complete('code.refactor("src/') == ['code.refactor("src/App.tsx"']
    assert 'code.refactor("src/App.tsx", output=' in complete('code.refactor("src/App.tsx", ')


@pytest.mark.toolchain
async def test_refactor_apply_writes_into_a_clean_tree_and_refuses_a_dirty_one(
        dispatcher, tmp_path, toolchain):
    import shutil
    import subprocess

    repo = tmp_path / "app"
    repo.mkdir()
    target = repo / "Counter.tsx"
    shutil.copy(FIXTURES / "Counter.tsx", target)
    original = target.read_text()
    for args in (["init", "-q"], ["add", "."],
                 ["-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "i"]):
        subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)
    await load_pool(dispatcher)
    target.write_text(original + "// mine\n")
    r = await dispatcher.run(f'code.refactor("{target}", apply=true)')
    assert not r.ok and "has uncommitted changes" in r.error
    assert target.read_text() == original + "// mine\n"
    target.write_text(original)
    r = await dispatcher.run(f'code.refactor("{target}", output="applied", apply=true)')
    assert r.ok, r.error
    assert "applied to Counter.tsx" in r.lines[-1]
    assert target.read_text().strip() == FIXED.strip()
    patch = tmp_path / "refactor-out" / "applied" / "revert.patch"
    subprocess.run(["git", "-C", str(repo), "apply", str(patch)], check=True)
    assert target.read_text() == original
