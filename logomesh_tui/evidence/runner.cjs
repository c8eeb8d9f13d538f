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

const show = (args) =>
  args
    .map((v) =>
      typeof v === "string" ? v : util.inspect(v, { depth: 6, sorted: true, breakLength: Infinity }))
    .join(" ");
const write = process.stdout.write.bind(process.stdout);
const probes = JSON.parse(process.argv[2] || "[]");

for (const name of probes) {
  for (const key of Object.keys(require.cache)) delete require.cache[key];
  const out = [];
  const capture = (...args) => {
    out.push(show(args));
  };
  console.log = console.info = console.warn = console.error = console.debug = capture;
  let status = "ok";
  try {
    require("./" + name);
  } catch (err) {
    status = err && err.name === "ProbeAssertion" ? "assert-failed" : "threw";
    out.push(`${err && err.name}: ${err && err.message}`);
  }
  write(`\n@@PROBE@@ ${JSON.stringify({ probe: name, status, output: out.join("\n").slice(0, 2000) })}\n`);
}
