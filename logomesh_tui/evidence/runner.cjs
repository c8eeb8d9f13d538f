// Runs the compiled probes against one compiled candidate, inside the sandbox.
// argv[2]: JSON list of probe module names. Each probe gets a fresh module cache (its own copy
// of the candidate), its console output captured, and `assert(cond, msg)` as a global.
// Every finished probe is printed at once as one `@@PROBE@@ {json}` line, so a probe that
// loops forever still leaves the earlier results behind when the sandbox kills the run.
"use strict";
const util = require("util");

class ProbeAssertion extends Error {
  constructor(message) {
    super(message);
    this.name = "ProbeAssertion";
  }
}
globalThis.assert = (cond, message) => {
  if (!cond) throw new ProbeAssertion(message || "assertion failed");
};
// For the probes made from the examples a task states: deep equality, and how a value reads.
globalThis.__sameValue = (a, b) => util.isDeepStrictEqual(a, b);
globalThis.__show = (v) => util.inspect(v, { depth: 6, breakLength: Infinity });
// For the probes asserting that inputs stay as they were and that stated inputs throw.
globalThis.__clone = (v) => structuredClone(v);
globalThis.__errorName = (e) => (e && typeof e === "object" && typeof e.name === "string" ? e.name : typeof e);
// `Error` accepts any error object; another name needs that class (or an error of that name).
globalThis.__isError = (e, name) => {
  if (!(e instanceof Error)) return false;
  if (name === "Error") return true;
  const cls = globalThis[name];
  return (typeof cls === "function" && e instanceof cls) || e.name === name;
};

const show = (args) =>
  args
    .map((v) =>
      typeof v === "string" ? v : util.inspect(v, { depth: 6, sorted: true, breakLength: Infinity }))
    .join(" ");
const write = process.stdout.write.bind(process.stdout);
const probes = JSON.parse(process.argv[2] || "[]");
// argv[3]: the compiled file under test. Its exports are also globals while a probe runs, so a
// probe that calls `paginate(...)` but forgot to import it (small testers do) still tests the
// candidate instead of throwing a ReferenceError for every candidate alike.
const subject = process.argv[3] || "";

for (const name of probes) {
  for (const key of Object.keys(require.cache)) delete require.cache[key];
  const out = [];
  const capture = (...args) => {
    out.push(show(args));
  };
  console.log = console.info = console.warn = console.error = console.debug = capture;
  let status = "ok";
  const injected = [];
  try {
    if (subject) {
      const exports = require("./" + subject);
      for (const [key, value] of Object.entries(exports)) {
        if (!(key in globalThis)) {
          globalThis[key] = value;
          injected.push(key);
        }
      }
    }
    require("./" + name);
  } catch (err) {
    status = err && err.name === "ProbeAssertion" ? "assert-failed" : "threw";
    out.push(`${err && err.name}: ${err && err.message}`);
  }
  for (const key of injected) delete globalThis[key];
  write(`\n@@PROBE@@ ${JSON.stringify({ probe: name, status, output: out.join("\n").slice(0, 2000) })}\n`);
}
