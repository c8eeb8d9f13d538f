"""The sandbox with the real node: what model-written code may and may not do.

Every probe runs twice: behind all walls (kernel namespaces, node's permission model, the
preload) and behind the inner walls alone, as on a machine where namespaces cannot be made.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time

import pytest

from logomesh_tui.verify.sandbox import (
    WALL_PERMISSION,
    WALL_PRELOAD,
    Sandbox,
    SandboxError,
    SandboxLimits,
    kernel_walls,
)

pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")


_WALLS = {"namespaces": True}


@pytest.fixture(autouse=True, params=["kernel", "inner"])
def namespaces(request) -> bool:
    """Which walls the sandboxes of a test get (``box`` and ``run`` read it)."""
    if request.param == "kernel" and kernel_walls() is None:
        pytest.skip("this machine cannot make namespaces (install bubblewrap)")
    _WALLS["namespaces"] = request.param == "kernel"
    return _WALLS["namespaces"]


def box(**kw) -> Sandbox:
    return Sandbox(namespaces=_WALLS["namespaces"], **kw)


def run(code: str, **limits) -> tuple:
    with box(limits=SandboxLimits(**limits) if limits else SandboxLimits()) as sb:
        sb.write("main.js", code)
        return sb.run_node_sync("main.js"), sb.root


@pytest.mark.toolchain
def test_a_normal_script_prints_and_exits_zero():
    result, _ = run("const x = [1, 2, 3].map(n => n * 2); console.log(JSON.stringify(x));")
    assert result.ok
    assert result.stdout.strip() == "[2,4,6]"
    assert result.exit_code == 0


@pytest.mark.toolchain
def test_stdin_reaches_the_script():
    with box() as sb:
        sb.write("main.js", "let s='';process.stdin.on('data',d=>s+=d).on('end',()=>"
                            "console.log(s.toUpperCase()))")
        result = sb.run_node_sync("main.js", stdin="hello")
    assert result.stdout.strip() == "HELLO"


@pytest.mark.toolchain
def test_an_infinite_loop_is_killed_and_reported_timed_out():
    result, _ = run("while (true) {}", timeout_s=1.5)
    assert result.timed_out
    assert result.exit_code is None
    assert not result.ok


@pytest.mark.toolchain
def test_a_write_outside_the_folder_is_refused_even_when_caught(tmp_path):
    target = tmp_path / "escaped.txt"
    result, _ = run(f"try {{ require('fs').writeFileSync({str(target)!r}, 'x'); }} "
                    "catch (e) { console.log('caught', e.code); }")
    assert not target.exists()
    assert result.denied
    assert "ERR_ACCESS_DENIED" in result.stdout
    assert not result.ok


@pytest.mark.toolchain
def test_a_write_inside_the_folder_is_allowed():
    result, root = run("require('fs').mkdirSync('out');require('fs').writeFileSync('out/../made.txt', 'ok');"
                       "console.log(require('fs').readFileSync('made.txt', 'utf8'))")
    assert result.ok, result.stderr
    assert result.stdout.strip() == "ok"


@pytest.mark.toolchain
def test_child_processes_are_refused():
    result, _ = run("try { require('child_process').spawnSync('ls'); console.log('spawned'); }"
                    " catch (e) { console.log('refused'); }")
    assert result.denied
    assert "spawned" not in result.stdout


@pytest.mark.toolchain
def test_a_network_connect_is_refused():
    result, _ = run("const s = require('net').connect(80, '1.1.1.1');"
                    "s.on('connect', () => console.log('connected'));"
                    "s.on('error', e => console.log('error', e.code));")
    assert result.denied
    assert "connected" not in result.stdout


@pytest.mark.toolchain
def test_fetch_is_refused():
    result, _ = run("fetch('http://example.com').then(() => console.log('fetched'),"
                    " e => console.log('failed'));")
    assert result.denied
    assert "fetched" not in result.stdout


@pytest.mark.toolchain
def test_an_allocation_bomb_reports_memory_exceeded():
    result, _ = run("const a = []; for (;;) a.push(new Array(1e6).fill(1.5));", memory_mb=64)
    assert result.memory_exceeded
    assert not result.ok


@pytest.mark.toolchain
def test_the_users_environment_is_invisible(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-a-real-key-123")
    result, root = run("console.log(JSON.stringify(process.env))")
    assert result.ok
    assert "sk-test-not-a-real-key-123" not in result.stdout
    assert "OPENAI_API_KEY" not in result.stdout
    assert str(root) in result.stdout  # HOME is the sandbox folder


@pytest.mark.toolchain
def test_output_beyond_the_cap_is_cut():
    result, _ = run("process.stdout.write('x'.repeat(50000))", output_bytes=1000)
    assert result.stdout.startswith("x" * 1000)
    assert "more bytes cut" in result.stdout
    assert len(result.stdout) < 1200


def test_the_folder_is_removed_on_exit():
    with box() as sb:
        sb.write("a.js", "1")
        root = sb.root
    assert not root.exists()


@pytest.mark.parametrize("name", ["../x.js", "/etc/passwd", "a/../../x.js", ""])
def test_file_names_cannot_leave_the_folder(name):
    with box() as sb, pytest.raises(SandboxError, match="leaves the sandbox"):
        sb.write(name, "x")


@pytest.mark.toolchain
def test_reading_outside_the_read_paths_is_refused(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("s3cret")
    result, _ = run(f"try {{ console.log(require('fs').readFileSync({str(secret)!r}, 'utf8')) }}"
                    " catch (e) { console.log('refused') }")
    assert "s3cret" not in result.stdout
    assert result.denied


@pytest.mark.toolchain
async def test_the_async_run_works_inside_a_loop():
    with box() as sb:
        sb.write("m.js", "console.log(6 * 7)")
        result = await sb.run_node("m.js")
        sync_result = sb.run_node_sync("m.js")
    assert result.stdout.strip() == sync_result.stdout.strip() == "42"


# --- probes an outside tester tried: each is refused or contained ---------------------------


def _fake_toolchain(tmp_path):
    nm = tmp_path / "toolchain" / "node_modules"
    (nm / "tool" / "bin").mkdir(parents=True)
    (nm / "tool" / "bin" / "tool.js").write_text("module.exports = 'original';\n")
    (nm / "tool" / "package.json").write_text('{"name": "tool", "main": "bin/tool.js"}')
    return nm


@pytest.mark.toolchain
def test_a_linked_toolchain_is_readable_and_never_writable(tmp_path):
    nm = _fake_toolchain(tmp_path)
    target = nm / "tool" / "bin" / "tool.js"
    before = target.read_bytes()
    code = f"""
    const fs = require('fs');
    console.log('loaded', require('tool'));
    for (const p of ['../node_modules/tool/bin/tool.js', 'node_modules/tool/bin/tool.js',
                     require.resolve('tool'), {str(target)!r}]) {{
      try {{ fs.writeFileSync(p, 'pwned'); console.log('wrote', p); }}
      catch (e) {{ console.log('refused', e.code); }}
      try {{ fs.appendFileSync(p, 'pwned'); console.log('appended', p); }} catch {{}}
      try {{ fs.renameSync(p, p + '.x'); console.log('renamed', p); }} catch {{}}
      try {{ fs.unlinkSync(p); console.log('removed', p); }} catch {{}}
    }}
    """
    with box(read_paths=[nm]) as sb:
        sb.link("node_modules", nm)
        sb.write("main.js", code)
        result = sb.run_node_sync("main.js")
    assert "loaded original" in result.stdout, result.stderr
    for verb in ("wrote", "appended", "renamed", "removed"):
        assert verb not in result.stdout
    assert result.denied and not result.ok
    assert target.read_bytes() == before
    assert sorted(p.name for p in nm.rglob("*")) == ["bin", "package.json", "tool", "tool.js"]


def test_a_link_is_placed_beside_the_folder_not_inside_it(tmp_path):
    nm = _fake_toolchain(tmp_path)
    with box(read_paths=[nm]) as sb:
        link = sb.link("node_modules", nm)
        assert not link.is_relative_to(sb.root)
        with pytest.raises(SandboxError, match="one plain name"):
            sb.link("a/node_modules", nm)


@pytest.mark.toolchain
def test_a_signal_to_an_unrelated_process_is_refused_and_it_survives():
    victim = subprocess.Popen(["sleep", "30"])
    try:
        result, _ = run(f"try {{ process.kill({victim.pid}, 'SIGKILL'); console.log('sent'); }}"
                        " catch (e) { console.log('refused', e.code); }")
        time.sleep(0.2)
        assert victim.poll() is None
        assert result.denied
        assert "sent" not in result.stdout
    finally:
        victim.kill()
        victim.wait()


@pytest.mark.toolchain
def test_the_caller_cannot_be_killed():
    # If the signal got through, the test process itself would die here.
    result, _ = run("for (const sig of ['SIGKILL', 'SIGTERM']) {"
                    " try { process.kill(process.ppid, sig); } catch {} }"
                    " try { process.kill(-1, 'SIGKILL'); } catch {}"
                    " try { process.kill(0, 'SIGKILL'); } catch {}"
                    " console.log('done')")
    assert result.stdout.strip() == "done"
    assert result.denied
    assert os.getpid() > 0


@pytest.mark.toolchain
def test_a_script_may_signal_itself():
    result, _ = run("process.on('SIGUSR2', () => { console.log('got it'); process.exit(0); });"
                    " process.kill(process.pid, 'SIGUSR2'); setTimeout(() => {}, 2000);")
    assert result.stdout.strip() == "got it"
    assert result.ok, result.stderr


@pytest.mark.toolchain
def test_the_inspector_of_another_process_cannot_be_opened():
    other = subprocess.Popen(["node", "-e", "setTimeout(() => {}, 20000)"],
                             stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(0.5)
        result, _ = run(f"try {{ process._debugProcess({other.pid}); console.log('opened'); }}"
                        " catch (e) { console.log('refused'); }")
        time.sleep(0.5)
    finally:
        other.kill()
        _, err = other.communicate()
    assert result.denied
    assert "opened" not in result.stdout
    assert "Debugger listening" not in err


def _udp_listener() -> socket.socket:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    s.settimeout(0.5)
    return s


def _received(listener: socket.socket) -> bool:
    try:
        listener.recvfrom(4096)
    except TimeoutError:
        return False
    return True


@pytest.mark.toolchain
def test_a_resolver_with_its_own_servers_reaches_nothing():
    listener = _udp_listener()
    port = listener.getsockname()[1]
    code = f"""
    const dns = require('dns');
    for (const make of [() => new dns.Resolver(), () => new dns.promises.Resolver()]) {{
      try {{
        const r = make(); r.setServers(['127.0.0.1:{port}']);
        const p = r.resolveTxt('example.com', () => {{}});
        if (p && p.catch) p.catch(() => {{}});
        console.log('resolver made');
      }} catch (e) {{ console.log('refused'); }}
    }}
    try {{ dns.setServers(['127.0.0.1:{port}']); console.log('set'); }} catch {{}}
    setTimeout(() => {{}}, 300);
    """
    try:
        result, _ = run(code)
        assert not _received(listener)
    finally:
        listener.close()
    assert result.denied
    assert "resolver made" not in result.stdout and "set" not in result.stdout.split()


@pytest.mark.toolchain
def test_a_udp_socket_with_its_own_lookup_reaches_nothing():
    listener = _udp_listener()
    port = listener.getsockname()[1]
    code = f"""
    const dgram = require('dgram');
    const lookup = (h, o, cb) => cb(null, '127.0.0.1', 4);
    for (const make of [() => new dgram.Socket({{type: 'udp4', lookup}}),
                        () => dgram.createSocket({{type: 'udp4', lookup}})]) {{
      try {{ make().send('hello', {port}, 'anything'); console.log('sent'); }}
      catch (e) {{ console.log('refused'); }}
    }}
    setTimeout(() => {{}}, 300);
    """
    try:
        result, _ = run(code)
        assert not _received(listener)
    finally:
        listener.close()
    assert result.denied
    assert "sent" not in result.stdout


@pytest.mark.parametrize("code", [
    "try { process.binding('spawn_sync'); } catch {}",
    "try { process.binding('tcp_wrap'); } catch {}",
    "const { ChildProcess } = require('child_process');"
    " try { new ChildProcess().spawn({ file: '/bin/sh', args: ['sh', '-c', 'id'] }); } catch {}",
    "try { require('fs').writeFileSync('/tmp/logomesh-escape.txt', 'x'); } catch {}",
    "try { require(process.execPath); } catch {}",
    "try { require('fs').closeSync(2); } catch {}",
])
@pytest.mark.toolchain
def test_a_caught_refusal_is_still_reported(code):
    result, _ = run(code + " console.log('finished')")
    assert result.stdout.strip() == "finished"
    assert result.denied
    assert result.refusals
    assert not result.ok


@pytest.mark.toolchain
def test_a_refusal_after_a_flood_of_output_is_still_reported():
    result, _ = run("process.stderr.write('x'.repeat(3000000));"
                    " try { require('child_process').execSync('id'); } catch {}", output_bytes=1000)
    assert "more bytes cut" in result.stderr
    assert result.denied
    assert "child_process" in result.refusals


@pytest.mark.toolchain
def test_the_result_names_the_walls_in_force(namespaces):
    result, _ = run("console.log(JSON.stringify({pid: process.pid,"
                    " nets: Object.keys(require('os').networkInterfaces())}))")
    assert result.ok, result.stderr
    assert result.walls[-2:] == (WALL_PERMISSION, WALL_PRELOAD)
    seen = json.loads(result.stdout)
    if namespaces:
        assert result.walls[0] == kernel_walls()
        # An empty network namespace has loopback at most, and the run is near PID 1.
        assert set(seen["nets"]) <= {"lo"}
        assert seen["pid"] <= 3
    else:
        assert len(result.walls) == 2
