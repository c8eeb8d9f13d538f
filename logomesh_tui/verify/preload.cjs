// Loaded with `node --require` before any model-written code in the sandbox: the inner wall.
// Node's permission model refuses file writes outside the sandbox and child processes, but a
// script can catch the refusal; this preload records every refusal on stderr (the
// LOGOMESH_SANDBOX_DENIED marker, written with the fs.writeSync captured here) so the caller
// counts it even when the script catches it. It also closes what Node 20's permission model does
// not cover: every socket-making API, signals to other processes, the inspector of other
// processes and the internal bindings behind child processes. Where the kernel's namespaces are
// in force they hold as well; where they are not, this is the wall.
"use strict";
const MARK = "LOGOMESH_SANDBOX_DENIED";
const fs = require("fs");
const writeSync = fs.writeSync;

function mark(what) {
  // stderr may be a full non-blocking pipe (the script flooded it): retry until the record is
  // written, for at most a few seconds; the caller drains the pipe meanwhile.
  const line = Buffer.from(`\n${MARK}: ${what}\n`);
  let off = 0;
  const until = Date.now() + 5000;
  while (off < line.length && Date.now() < until) {
    try {
      off += writeSync(2, line, off, line.length - off);
    } catch (err) {
      if (!err || err.code !== "EAGAIN") return;
    }
  }
}

function denied(what) {
  mark(what);
  const err = new Error(`${what} is not allowed in the sandbox`);
  err.code = "ERR_ACCESS_DENIED";
  return err;
}

// Report permission refusals from fs, sync or async, even when the script catches them.
function watch(obj, name) {
  const orig = obj[name];
  if (typeof orig !== "function" || /^[A-Z]/.test(name)) return;
  const wrapped = function (...args) {
    const last = args.length ? args[args.length - 1] : undefined;
    if (typeof last === "function") {
      args[args.length - 1] = function (err, ...rest) {
        if (err && err.code === "ERR_ACCESS_DENIED") mark(`fs.${name}`);
        return last.call(this, err, ...rest);
      };
    }
    let out;
    try {
      out = orig.apply(this, args);
    } catch (err) {
      if (err && err.code === "ERR_ACCESS_DENIED") mark(`fs.${name}`);
      throw err;
    }
    if (out && typeof out.then === "function") {
      return out.catch((err) => {
        if (err && err.code === "ERR_ACCESS_DENIED") mark(`fs.promises.${name}`);
        throw err;
      });
    }
    return out;
  };
  try {
    obj[name] = wrapped;
  } catch {
    // a read-only export: node's own refusal still applies.
  }
}
for (const name of Object.keys(fs)) watch(fs, name);
for (const name of Object.keys(fs.promises)) watch(fs.promises, name);

// stderr carries the refusal records: the script may not close it.
for (const name of ["close", "closeSync"]) {
  const orig = fs[name];
  fs[name] = function (fd, ...rest) {
    if (fd === 2) throw denied("closing stderr");
    return orig.call(this, fd, ...rest);
  };
}

// A refusal met while loading a module (a path outside the read paths) is recorded too.
const Module = require("module");
const origRequire = Module.prototype.require;
Module.prototype.require = function (...args) {
  try {
    return origRequire.apply(this, args);
  } catch (err) {
    if (err && err.code === "ERR_ACCESS_DENIED") mark("require");
    throw err;
  }
};

// Signals and the inspector reach only this process.
const origKill = process.kill;
process.kill = function (pid, signal) {
  if (Number(pid) !== process.pid) throw denied("process.kill of another process");
  return origKill.call(process, pid, signal);
};
if (typeof process._kill === "function") {
  const rawKill = process._kill;
  process._kill = function (pid, signal) {
    if (Number(pid) !== process.pid) throw denied("process.kill of another process");
    return rawKill.call(process, pid, signal);
  };
}
for (const name of ["_debugProcess", "_debugEnd", "_linkedBinding", "dlopen"]) {
  if (typeof process[name] === "function") {
    process[name] = function () {
      throw denied(`process.${name}`);
    };
  }
}
// Internal bindings that make processes, sockets or resolvers.
const BLOCKED_BINDINGS = new Set(["spawn_sync", "process_wrap", "tcp_wrap", "udp_wrap",
  "pipe_wrap", "cares_wrap", "stream_wrap", "tty_wrap", "js_stream", "inspector", "worker",
  "signal_wrap"]);
const origBinding = process.binding;
process.binding = function (name) {
  if (BLOCKED_BINDINGS.has(String(name))) throw denied(`process.binding('${name}')`);
  try {
    return origBinding.call(process, name);
  } catch (err) {
    if (err && err.code === "ERR_ACCESS_DENIED") mark(`process.binding('${name}')`);
    throw err;
  }
};

function block(mod, names, what) {
  for (const name of names) {
    if (typeof mod[name] === "function") {
      mod[name] = function () {
        throw denied(what);
      };
    }
  }
}

const cp = require("child_process");
block(cp, ["spawn", "spawnSync", "exec", "execSync", "execFile", "execFileSync", "fork"],
  "child_process");
if (cp.ChildProcess && cp.ChildProcess.prototype) {
  cp.ChildProcess.prototype.spawn = function () {
    throw denied("child_process");
  };
}
const wt = require("worker_threads");
try {
  wt.Worker = function () {
    throw denied("worker_threads");
  };
} catch {
  // not writable: --allow-worker is absent, so node refuses it anyway.
}

const net = require("net");
block(net, ["connect", "createConnection", "createServer"], "network");
net.Socket.prototype.connect = function () {
  throw denied("network");
};
net.Server.prototype.listen = function () {
  throw denied("network");
};
block(require("tls"), ["connect", "createServer", "createSecureContext"], "network");
for (const m of ["http", "https"]) {
  block(require(m), ["request", "get", "createServer"], "network");
}
block(require("http2"), ["connect", "createServer", "createSecureServer"], "network");
const dgram = require("dgram");
block(dgram, ["createSocket"], "network");
// A class is replaced by one that refuses to be made, and the original's methods refuse too.
function refuseClass(mod, name, what) {
  const orig = mod[name];
  if (typeof orig !== "function") return;
  for (const key of Object.getOwnPropertyNames(orig.prototype || {})) {
    if (key === "constructor") continue;
    const desc = Object.getOwnPropertyDescriptor(orig.prototype, key);
    if (desc && typeof desc.value === "function") {
      orig.prototype[key] = function () {
        throw denied(what);
      };
    }
  }
  const refused = function () {
    throw denied(what);
  };
  refused.prototype = orig.prototype;
  mod[name] = refused;
}
refuseClass(dgram, "Socket", "network");
const NETWORK_CALL = /^(lookup|resolve|reverse|setServers)/;
const dns = require("dns");
block(dns, Object.keys(dns).filter((k) => NETWORK_CALL.test(k)), "network");
block(dns.promises, Object.keys(dns.promises).filter((k) => NETWORK_CALL.test(k)), "network");
refuseClass(dns, "Resolver", "network");
refuseClass(dns.promises, "Resolver", "network");
for (const name of ["fetch", "WebSocket", "EventSource"]) {
  if (name in globalThis) {
    Object.defineProperty(globalThis, name, {
      value: function () {
        throw denied("network");
      },
      writable: false,
      configurable: false,
    });
  }
}
// `import { connect } from "net"` must see the replacements too.
require("module").syncBuiltinESMExports();
