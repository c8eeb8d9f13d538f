"""session.fork and session.compare in the command language, through `logomesh-tui shell`."""


from logomesh_tui.cli.main import main
from logomesh_tui.sessions import events as ev
from logomesh_tui.sessions.store import SessionStore


def test_shell_forks_runs_and_compares_a_branch(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("LOGOMESH_SESSIONS_DIR", str(tmp_path / "sessions"))
    script = ('llm.registry.load("qwen2.5-coder-0.5b", "primary-analyzer"); '
              'llm.registry.load("smollm2-135m", "architecture-critic"); '
              'conversation.start("Analyse the useEffect dependencies", max_rounds=2, '
              'arbitration="highest-score")')
    assert main(["shell", "--fake", "-c", script]) == 0
    capsys.readouterr()
    store = SessionStore(tmp_path / "sessions")
    root = store.ids()[0]
    assert main(["shell", "--fake", "-c",
                 f'session.fork("{root}", at="m3", role="architecture-critic=gemma-3-270m")']) == 0
    out = capsys.readouterr().out
    assert f"of {root} after m3" in out and "finished" in out
    branch = next(r.id for r in store.list() if r.parent == root)
    msgs = [e.message for e in store.read(branch).events if isinstance(e, ev.MessagePosted)]
    assert {m.model_id for m in msgs[3:] if m.from_role == "architecture-critic"} == {
        "gemma-3-270m"}
    assert main(["shell", "-c", f'session.compare(["{root}", "{branch}"])']) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("from m3") and any(line.startswith(branch) for line in lines)
    # Bad input names what was wrong.
    assert main(["shell", "-c", f'session.fork("{root}", at="m3", role="critic")']) == 1
    assert "write ROLE=MODEL" in capsys.readouterr().err
    assert main(["shell", "-c", f'session.fork("{root}", at="m3", role="x=y", run=false)']) == 1
    assert "no role 'x'" in capsys.readouterr().err
    assert len(store.ids()) == 2
