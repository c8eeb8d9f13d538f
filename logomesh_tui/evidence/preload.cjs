// Loaded with `node --require` before any model-written code in the sandbox.
// Node's permission model refuses file writes outside the sandbox and child processes, but a
// script can catch the refusal; this preload makes every refusal visible on stderr (the
// SANDBOX_DENIED marker) so the caller can count it, and it closes the network entry points,
// which Node 20's permission model does not cover.
"use strict";
const MARK = "LOGOMESH_SANDBOX_DENIED";
const fs = require("fs");
const writeSync = fs.writeSync;

function mark(what) {
  try {
    writeSync(2, `\n${MARK}: ${what}\n`);
  } catch {
    // stderr closed: the refusal itself still stands.
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
block(require("dgram"), ["createSocket"], "network");
const dns = require("dns");
block(dns, Object.keys(dns).filter((k) => /^(lookup|resolve|reverse)/.test(k)), "network");
block(dns.promises, Object.keys(dns.promises).filter((k) => /^(lookup|resolve|reverse)/.test(k)),
  "network");
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
