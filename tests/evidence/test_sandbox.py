"""The sandbox with the real node: what model-written code may and may not do."""

from __future__ import annotations

import shutil

import pytest

from logomesh_tui.evidence.sandbox import Sandbox, SandboxError, SandboxLimits

pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")


def run(code: str, **limits) -> tuple:
    with Sandbox(limits=SandboxLimits(**limits) if limits else SandboxLimits()) as sb:
        sb.write("main.js", code)
        return sb.run_node_sync("main.js"), sb.root


def test_a_normal_script_prints_and_exits_zero():
    result, _ = run("const x = [1, 2, 3].map(n => n * 2); console.log(JSON.stringify(x));")
    assert result.ok
    assert result.stdout.strip() == "[2,4,6]"
    assert result.exit_code == 0


def test_stdin_reaches_the_script():
    with Sandbox() as sb:
        sb.write("main.js", "let s='';process.stdin.on('data',d=>s+=d).on('end',()=>"
                            "console.log(s.toUpperCase()))")
        result = sb.run_node_sync("main.js", stdin="hello")
    assert result.stdout.strip() == "HELLO"


def test_an_infinite_loop_is_killed_and_reported_timed_out():
    result, _ = run("while (true) {}", timeout_s=1.5)
    assert result.timed_out
    assert result.exit_code is None
    assert not result.ok


def test_a_write_outside_the_folder_is_refused_even_when_caught(tmp_path):
    target = tmp_path / "escaped.txt"
    result, _ = run(f"try {{ require('fs').writeFileSync({str(target)!r}, 'x'); }} "
                    "catch (e) { console.log('caught', e.code); }")
    assert not target.exists()
    assert result.denied
    assert "ERR_ACCESS_DENIED" in result.stdout
    assert not result.ok


def test_a_write_inside_the_folder_is_allowed():
    result, root = run("require('fs').mkdirSync('out');require('fs').writeFileSync('out/../made.txt', 'ok');"
                       "console.log(require('fs').readFileSync('made.txt', 'utf8'))")
    assert result.ok, result.stderr
    assert result.stdout.strip() == "ok"


def test_child_processes_are_refused():
    result, _ = run("try { require('child_process').spawnSync('ls'); console.log('spawned'); }"
                    " catch (e) { console.log('refused'); }")
    assert result.denied
    assert "spawned" not in result.stdout


def test_a_network_connect_is_refused():
    result, _ = run("const s = require('net').connect(80, '1.1.1.1');"
                    "s.on('connect', () => console.log('connected'));"
                    "s.on('error', e => console.log('error', e.code));")
    assert result.denied
    assert "connected" not in result.stdout


def test_fetch_is_refused():
    result, _ = run("fetch('http://example.com').then(() => console.log('fetched'),"
                    " e => console.log('failed'));")
    assert result.denied
    assert "fetched" not in result.stdout


def test_an_allocation_bomb_reports_memory_exceeded():
    result, _ = run("const a = []; for (;;) a.push(new Array(1e6).fill(1.5));", memory_mb=64)
    assert result.memory_exceeded
    assert not result.ok


def test_the_users_environment_is_invisible(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-a-real-key-123")
    result, root = run("console.log(JSON.stringify(process.env))")
    assert result.ok
    assert "sk-test-not-a-real-key-123" not in result.stdout
    assert "OPENAI_API_KEY" not in result.stdout
    assert str(root) in result.stdout  # HOME is the sandbox folder


def test_output_beyond_the_cap_is_cut():
    result, _ = run("process.stdout.write('x'.repeat(50000))", output_bytes=1000)
    assert result.stdout.startswith("x" * 1000)
    assert "more bytes cut" in result.stdout
    assert len(result.stdout) < 1200


def test_the_folder_is_removed_on_exit():
    with Sandbox() as sb:
        sb.write("a.js", "1")
        root = sb.root
    assert not root.exists()


@pytest.mark.parametrize("name", ["../x.js", "/etc/passwd", "a/../../x.js", ""])
def test_file_names_cannot_leave_the_folder(name):
    with Sandbox() as sb, pytest.raises(SandboxError, match="leaves the sandbox"):
        sb.write(name, "x")


def test_reading_outside_the_read_paths_is_refused(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("s3cret")
    result, _ = run(f"try {{ console.log(require('fs').readFileSync({str(secret)!r}, 'utf8')) }}"
                    " catch (e) { console.log('refused') }")
    assert "s3cret" not in result.stdout
    assert result.denied


async def test_the_async_run_works_inside_a_loop():
    with Sandbox() as sb:
        sb.write("m.js", "console.log(6 * 7)")
        result = await sb.run_node("m.js")
        sync_result = sb.run_node_sync("m.js")
    assert result.stdout.strip() == sync_result.stdout.strip() == "42"
