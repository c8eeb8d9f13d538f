// Behaviour harness: renders a React component under jsdom + react-dom and runs an interaction
// script, recording the DOM, render commits, mocked API calls and timers after every step.
//
// It runs model-written code, so the Python side starts it only inside the evidence sandbox.
// Usage: node harness.js job.json   (prints one JSON object on stdout)
//
// job = {node_modules, files: {relpath: source}, entry, export?, props?, api?, steps?,
//        derive?: bool, settle_rounds?}
// With derive=true, missing props are generated from the component's prop types and missing
// steps are derived from the rendered DOM (inputs, selects, buttons, clickable elements), and
// the script actually run is returned so other versions can replay exactly the same one.
"use strict";
const fs = require("fs");
const path = require("path");

const job = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const NM = job.node_modules;
const need = (name) => require(path.join(NM, name));
// TypeScript probes at load whether file names are case-sensitive by stat-ing its own path in
// upper case, outside the readable folders; answer "not found" (what it would be on Linux) so
// the sandbox does not count that probe as a refusal.
const ts = (() => {
  const realStat = fs.statSync;
  fs.statSync = (p, o) => {
    const name = String(p);
    if (name !== name.toLowerCase() && name === name.toUpperCase()) {
      if (o && o.throwIfNoEntry === false) return undefined;
      throw Object.assign(new Error(`ENOENT: ${name}`), { code: "ENOENT" });
    }
    return realStat(p, o);
  };
  try { return need("typescript"); } finally { fs.statSync = realStat; }
})();
const { JSDOM, VirtualConsole } = need("jsdom");

const out = { ok: true, steps: [], errors: [], script: null, props: null, timers_after_unmount: 0,
  max_update_depth: false };
function finish() {
  process.stdout.write(JSON.stringify(out));
}

// ---- DOM globals (before React loads: react-dom decides at load time whether a DOM exists) ----
const virtualConsole = new VirtualConsole();
const stepErrors = [];
const stepWarnings = [];
virtualConsole.on("jsdomError", (e) => {
  const msg = String((e && e.message) || e);
  if (/Not implemented/.test(msg)) return; // navigation, scrolling: jsdom limits, not bugs
  stepErrors.push(msg.split("\n")[0]);
});
const dom = new JSDOM("<!doctype html><html><body><div id=\"root\"></div></body></html>",
  { url: "http://localhost/", pretendToBeVisual: true, virtualConsole });
const win = dom.window;
for (const key of Object.getOwnPropertyNames(win)) {
  if (!(key in globalThis)) {
    try { globalThis[key] = win[key]; } catch (e) { /* read-only global */ }
  }
}
globalThis.window = win;
globalThis.document = win.document;
globalThis.navigator = win.navigator;
globalThis.IS_REACT_ACT_ENVIRONMENT = true;
win.URL.createObjectURL = () => "blob:http://localhost/harness";
win.URL.revokeObjectURL = () => undefined;
globalThis.URL = win.URL;
win.addEventListener("error", (ev) => {
  stepErrors.push(String((ev.error && ev.error.message) || ev.message).split("\n")[0]);
  ev.preventDefault();
});

const realSetImmediate = setImmediate;
const React = need("react");
const ReactDOMClient = need("react-dom/client");
const jsxRuntime = need("react/jsx-runtime");
const act = React.act;

// ---- console: React reports loops and misuse through console.error ----
const origError = console.error;
console.error = (...args) => {
  const msg = args.map((a) => (a && a.message) || String(a)).join(" ");
  if (/Maximum update depth exceeded/.test(msg)) out.max_update_depth = true;
  stepWarnings.push(msg.split("\n")[0].slice(0, 300));
};
console.warn = (...args) => stepWarnings.push(args.map(String).join(" ").split("\n")[0].slice(0, 300));
console.log = () => undefined;

// ---- fake timers and a fixed clock, installed after React captured the real ones ----
const START = Date.parse("2024-06-01T12:00:00Z");
let now = START;
const timers = new Map();
let nextTimer = 1;
function setT(fn, ms, args, interval) {
  const id = nextTimer++;
  const delay = Math.max(interval ? 1 : 0, Number(ms) || 0);
  timers.set(id, { fn, at: now + delay, interval: interval ? delay : 0, args });
  return id;
}
const fakeTimers = {
  setTimeout: (fn, ms, ...args) => setT(fn, ms, args, false),
  setInterval: (fn, ms, ...args) => setT(fn, ms, args, true),
  clearTimeout: (id) => { timers.delete(id); },
  clearInterval: (id) => { timers.delete(id); },
};
Object.assign(globalThis, fakeTimers);
Object.assign(win, fakeTimers);
function advance(ms) {
  const target = now + ms;
  for (let guard = 0; guard < 10000; guard++) {
    let next = null;
    for (const [id, t] of timers) if (t.at <= target && (!next || t.at < next[1].at)) next = [id, t];
    if (!next) break;
    const [id, t] = next;
    now = t.at;
    if (t.interval) t.at += t.interval; else timers.delete(id);
    if (typeof t.fn === "function") t.fn(...t.args);
  }
  now = target;
}
const RealDate = Date;
class FakeDate extends RealDate {
  constructor(...a) { if (a.length === 0) super(now); else super(...a); }
  static now() { return now; }
}
globalThis.Date = FakeDate;
let seed = 12345;
Math.random = () => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed / 2147483648; };

// ---- mocked API ----
const apiLog = [];
const pending = [];
let stepName = "";
function permissive() {
  // Any field of an unknown response reads as an empty list: iterable, mappable, spreadable.
  return new Proxy({}, {
    get(t, k) {
      if (typeof k === "symbol" || k === "then" || k === "toJSON") return undefined;
      if (k === "toString" || k === "valueOf") return () => "";
      return [];
    },
  });
}
function mockFetch(input, init) {
  const url = typeof input === "string" ? input : (input && input.url) || String(input);
  const method = ((init && init.method) || "GET").toUpperCase();
  apiLog.push({ step: stepName, method, url });
  const rule = (job.api || []).find((r) => url.includes(r.match) && (!r.method || r.method.toUpperCase() === method));
  const status = rule && rule.status ? rule.status : 200;
  const body = rule && "json" in rule ? rule.json : undefined;
  const make = () => (body === undefined ? permissive() : structuredClone(body));
  // Answered only when settle() says so, between act() scopes, one layer per round: act drains
  // every task it can see, so a component that refetches on every render would keep it busy
  // forever; this way such a loop is one more call per round, counted and cut off.
  const response = { ok: status < 400, status, url, headers: new win.Headers(),
    json: () => Promise.resolve(make()), text: () => Promise.resolve(body === undefined ? "" : JSON.stringify(body)) };
  return new Promise((resolve) => pending.push(() => resolve(response)));
}
// The sandbox's preload makes the global fetch a fixed refusal; the component's modules get
// this one as a parameter of their wrapper instead (see load()), and window.fetch too.
win.fetch = mockFetch;

// ---- module loading: the component's files, transpiled; react from the pinned packages ----
const files = job.files;
const cache = {};
const builtins = { "react": React, "react/jsx-runtime": jsxRuntime, "react-dom/client": ReactDOMClient,
  "react-dom": need("react-dom") };
function resolveRel(from, spec) {
  const base = path.posix.normalize(path.posix.join(path.posix.dirname(from), spec));
  for (const c of [base, base + ".tsx", base + ".ts", base + "/index.tsx", base + "/index.ts"]) if (c in files) return c;
  return null;
}
function load(rel) {
  if (cache[rel]) return cache[rel].exports;
  const js = ts.transpileModule(files[rel], { fileName: rel, compilerOptions: {
    jsx: ts.JsxEmit.ReactJSX, module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022,
    esModuleInterop: true } }).outputText;
  const mod = { exports: {} };
  cache[rel] = mod;
  const req = (spec) => {
    if (spec in builtins) return builtins[spec];
    if (spec.startsWith(".")) {
      const r = resolveRel(rel, spec);
      if (r) return load(r);
    }
    if (/\.(css|scss|svg|png)$/.test(spec)) return {};
    throw new Error(`module ${spec} is not available in the behaviour harness`);
  };
  new Function("require", "module", "exports", "fetch", js)(req, mod, mod.exports, mockFetch);
  return mod.exports;
}

// ---- props from the component's declared prop types ----
function deriveProps(compName) {
  const options = { strict: true, jsx: ts.JsxEmit.ReactJSX, target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext, moduleResolution: ts.ModuleResolutionKind.Bundler, noEmit: true,
    skipLibCheck: true, types: [] };
  const host = ts.createCompilerHost(options);
  // Only the component's files (virtual, under rootDir) and the pinned packages exist for this
  // program: a probe anywhere else would be a permission refusal in the sandbox.
  const rootDir = "/harness-src/";
  const virtualNM = rootDir + "node_modules/";
  const real = (f) => (f.startsWith(virtualNM) ? path.join(NM, f.slice(virtualNM.length)) : f);
  const allowed = (f) => f === NM || f.startsWith(NM + "/");
  const origRead = host.readFile, origExists = host.fileExists;
  const origDirExists = host.directoryExists ? host.directoryExists.bind(host) : (d) => fs.existsSync(d);
  host.readFile = (f) => (f.startsWith(rootDir) && !f.startsWith(virtualNM) ? files[f.slice(rootDir.length)]
    : allowed(real(f)) ? origRead(real(f)) : undefined);
  host.fileExists = (f) => (f.startsWith(rootDir) && !f.startsWith(virtualNM) ? f.slice(rootDir.length) in files
    : allowed(real(f)) && origExists(real(f)));
  host.directoryExists = (d) => (d === rootDir.slice(0, -1) || d + "/" === virtualNM || (d.startsWith(rootDir) && !d.startsWith(virtualNM))
    ? true : allowed(real(d)) && origDirExists(real(d)));
  host.realpath = (f) => f;
  host.getDirectories = () => [];
  host.getCurrentDirectory = () => rootDir.slice(0, -1);
  host.getDefaultLibFileName = (o) => path.join(NM, "typescript", "lib", ts.getDefaultLibFileName(o));
  const program = ts.createProgram([rootDir + job.entry], options, host);
  const checker = program.getTypeChecker();
  const sf = program.getSourceFile(rootDir + job.entry);
  if (!sf) return {};
  const modSym = checker.getSymbolAtLocation(sf);
  if (!modSym) return {};
  const exp = checker.getExportsOfModule(modSym).find((s) => s.name === compName);
  if (!exp) return {};
  const sym = exp.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exp) : exp;
  const decl = sym.valueDeclaration || (sym.declarations || [])[0];
  if (!decl) return {};
  const sigs = checker.getTypeOfSymbolAtLocation(sym, decl).getCallSignatures();
  if (!sigs.length || !sigs[0].parameters.length) return {};
  const p0 = sigs[0].parameters[0];
  const t = checker.getTypeOfSymbolAtLocation(p0, decl);
  return valueFor(checker, t, "props", 0, decl) || {};
}
function stringFor(name, i) {
  const n = name.toLowerCase();
  if (/currency/.test(n)) return "USD";
  if (/locale|lang/.test(n)) return "en-US";
  if (/(url|base|endpoint|href|api)$/.test(n) || /^api/.test(n)) return "/api";
  if (/colou?r|background|foreground|accent|muted|border|fill/.test(n)) return "#336699";
  if (/(date|at|from|to|since|until)$/.test(n)) return `2024-05-${String(10 + i).padStart(2, "0")}`;
  if (/email/.test(n)) return `user${i}@example.com`;
  if (/^id$|id$/.test(n)) return `${name}-${i + 1}`;
  return `${name} ${i + 1}`;
}
function valueFor(checker, t, name, depth, decl) {
  if (depth > 5) return null;
  const f = t.flags;
  if (t.isUnion && t.isUnion()) {
    const parts = t.types.filter((x) => !(x.flags & (ts.TypeFlags.Undefined | ts.TypeFlags.Null)));
    const lit = parts.find((x) => x.isStringLiteral && x.isStringLiteral());
    if (parts.every((x) => x.flags & ts.TypeFlags.BooleanLiteral)) return false;
    if (lit) return lit.value;
    return parts.length ? valueFor(checker, parts[0], name, depth, decl) : null;
  }
  if (f & ts.TypeFlags.StringLiteral) return t.value;
  if (f & ts.TypeFlags.NumberLiteral) return t.value;
  if (f & (ts.TypeFlags.Boolean | ts.TypeFlags.BooleanLiteral)) return false;
  if (f & ts.TypeFlags.String) return stringFor(name, depth);
  if (f & ts.TypeFlags.Number) {
    const n = name.toLowerCase();
    if (/ms$|interval|delay|timeout/.test(n)) return 1000;
    if (/size|count|limit|max|per/.test(n)) return 5;
    return 3;
  }
  if (f & (ts.TypeFlags.Any | ts.TypeFlags.Unknown)) return null;
  if (t.getCallSignatures && t.getCallSignatures().length) return { $fn: name };
  if (checker.isArrayType && checker.isArrayType(t)) {
    const el = checker.getTypeArguments(t)[0];
    const items = [];
    for (let i = 0; i < 2; i++) items.push(valueFor(checker, el, name.replace(/s$/, ""), depth + 1, decl));
    return items.map((x, i) => (x && typeof x === "object" && !Array.isArray(x) ? x : x));
  }
  if (f & ts.TypeFlags.Object) {
    const obj = {};
    for (const p of checker.getPropertiesOfType(t)) {
      const pt = checker.getTypeOfSymbolAtLocation(p, decl);
      const v = valueFor(checker, pt, p.name, depth + 1, decl);
      if (v !== null && v !== undefined) obj[p.name] = v;
    }
    return obj;
  }
  return null;
}

const calls = [];
function materialize(v, key) {
  if (v && typeof v === "object" && !Array.isArray(v) && typeof v.$fn === "string") {
    const name = v.$fn;
    return (...args) => { calls.push({ step: stepName, fn: name, args: args.length }); return undefined; };
  }
  if (Array.isArray(v)) return v.map((x) => materialize(x));
  if (v && typeof v === "object") {
    const o = {};
    for (const k of Object.keys(v)) o[k] = materialize(v[k], k);
    return o;
  }
  return v;
}

// ---- running ----
let commits = 0;
let stepCommitsAt = 0;
let stepLooped = false;
// A loop that act() never drains (an effect that sets new state on every render, flushed
// synchronously) would hang the run until the sandbox kills it: past this many commits in one
// step the commit throws, React unmounts the tree, and the step is reported as never settling.
const LOOP_COMMITS = job.loop_commits || 300;
function countCommit() {
  commits += 1;
  if (commits - stepCommitsAt > LOOP_COMMITS) {
    stepLooped = true;
    throw new Error(`render loop: more than ${LOOP_COMMITS} commits in one step`);
  }
}
let root = null;
const container = document.getElementById("root");
const MAX_ROUNDS = job.settle_rounds || 12;

async function settle() {
  let quiet = 0;
  for (let round = 1; round <= MAX_ROUNDS; round++) {
    const c0 = commits, a0 = apiLog.length;
    try {
      const answer = pending.splice(0);
      await act(async () => {
        for (const resolve of answer) resolve();
        await new Promise((r) => realSetImmediate(r));
      });
    } catch (e) {
      stepErrors.push(String((e && e.message) || e).split("\n")[0]);
      return { settled: false, rounds: round };
    }
    if (commits === c0 && apiLog.length === a0 && !pending.length) {
      quiet += 1;
      if (quiet >= 2) return { settled: true, rounds: round };
    } else quiet = 0;
  }
  return { settled: false, rounds: MAX_ROUNDS };
}

function reactProps(el) {
  const key = Object.keys(el).find((k) => k.startsWith("__reactProps$"));
  return key ? el[key] : null;
}
function findTarget(step) {
  let els = Array.from(container.querySelectorAll(step.selector || "*"));
  if (step.text !== undefined) els = els.filter((e) => e.textContent.trim() === step.text);
  return els[step.index || 0] || null;
}
function setValue(el, value) {
  const proto = el.tagName === "SELECT" ? win.HTMLSelectElement.prototype
    : el.tagName === "TEXTAREA" ? win.HTMLTextAreaElement.prototype : win.HTMLInputElement.prototype;
  Object.getOwnPropertyDescriptor(proto, "value").set.call(el, value);
}

async function perform(step, Comp, props) {
  if (step.do === "mount") {
    await act(async () => {
      root = ReactDOMClient.createRoot(container, {
        onUncaughtError: (e) => stepErrors.push(String((e && e.message) || e).split("\n")[0]),
        onRecoverableError: (e) => stepWarnings.push(String((e && e.message) || e).split("\n")[0]),
      });
      root.render(React.createElement(React.Profiler, { id: "root", onRender: countCommit },
        React.createElement(Comp, props)));
    });
    return;
  }
  if (step.do === "unmount") {
    await act(async () => { root.unmount(); });
    return;
  }
  if (step.do === "tick") {
    await act(async () => { advance(step.ms || 1000); });
    return;
  }
  const el = findTarget(step);
  if (!el) throw new Error(`step target not found: ${step.selector || ""} ${step.text || ""} #${step.index || 0}`);
  if (step.do === "click" || step.do === "dblclick") {
    await act(async () => {
      el.dispatchEvent(new win.MouseEvent(step.do, { bubbles: true, cancelable: true }));
    });
  } else if (step.do === "type") {
    const text = String(step.text_value !== undefined ? step.text_value : "");
    const base = step.replace ? "" : el.value || "";
    if (el.type === "date" || el.type === "number" || step.replace) {
      await act(async () => { setValue(el, text); el.dispatchEvent(new win.Event("input", { bubbles: true })); });
    } else {
      for (let i = 1; i <= text.length; i++) {
        await act(async () => { setValue(el, base + text.slice(0, i)); el.dispatchEvent(new win.Event("input", { bubbles: true })); });
      }
    }
  } else if (step.do === "select") {
    await act(async () => { setValue(el, String(step.value)); el.dispatchEvent(new win.Event("change", { bubbles: true })); });
  } else {
    throw new Error(`unknown step ${step.do}`);
  }
}

function deriveSteps() {
  // What a user can do on the first screen: type into fields, pick options, press buttons and
  // other clickable elements; then let time pass (polling) and leave.
  const steps = [];
  const inputs = Array.from(container.querySelectorAll("input, textarea"));
  inputs.slice(0, 6).forEach((el) => {
    const sel = el.tagName.toLowerCase();
    const index = Array.from(container.querySelectorAll(sel)).indexOf(el);
    const type = (el.getAttribute("type") || "text").toLowerCase();
    if (type === "checkbox" || type === "radio") steps.push({ do: "click", selector: sel, index });
    else if (type === "date") steps.push({ do: "type", selector: sel, index, text_value: "2024-05-11", replace: true });
    else if (type === "number" || type === "range") steps.push({ do: "type", selector: sel, index, text_value: "5", replace: true });
    else steps.push({ do: "type", selector: sel, index, text_value: "ab" });
  });
  Array.from(container.querySelectorAll("select")).slice(0, 4).forEach((el, index) => {
    const opts = Array.from(el.options);
    if (opts.length > 1) steps.push({ do: "select", selector: "select", index, value: opts[1].value });
  });
  Array.from(container.querySelectorAll("button")).slice(0, 8).forEach((el, index) => {
    if (!el.disabled) steps.push({ do: "click", selector: "button", index });
  });
  const clickable = Array.from(container.querySelectorAll("*")).filter((el) => {
    const p = reactProps(el);
    return p && el.tagName !== "BUTTON" && el.tagName !== "INPUT" && (p.onClick || p.onDoubleClick);
  });
  const byTag = {};
  for (const el of clickable.slice(0, 12)) {
    const tag = el.tagName.toLowerCase();
    byTag[tag] = (byTag[tag] || 0) + 1;
    if (byTag[tag] > 2) continue;
    const index = Array.from(container.querySelectorAll(tag)).indexOf(el);
    const p = reactProps(el);
    steps.push({ do: p.onClick ? "click" : "dblclick", selector: tag, index });
  }
  steps.push({ do: "tick", ms: 60000 });
  return steps;
}

async function main() {
  const exportsObj = load(job.entry);
  let name = job.export;
  if (!name) name = exportsObj.default ? "default" : Object.keys(exportsObj).find((k) => /^[A-Z]/.test(k) && typeof exportsObj[k] === "function");
  const Comp = name ? exportsObj[name] : null;
  if (typeof Comp !== "function") throw new Error(`no component export found in ${job.entry}`);
  let propsJson = job.props;
  if (!propsJson) {
    let compName = name;
    if (name === "default") {
      compName = "default";
    }
    propsJson = deriveProps(compName);
  }
  out.props = propsJson;
  const props = materialize(propsJson);
  const steps = job.steps ? job.steps.slice() : null;
  const script = steps ? steps : [{ do: "mount" }];
  if (!script.length || script[0].do !== "mount") script.unshift({ do: "mount" });
  for (let i = 0; i < script.length; i++) {
    const step = script[i];
    stepName = `${i}:${step.do}`;
    stepErrors.length = 0;
    stepWarnings.length = 0;
    const c0 = commits, a0 = apiLog.length, k0 = calls.length;
    stepCommitsAt = commits;
    stepLooped = false;
    let settleInfo = { settled: true, rounds: 0 };
    try {
      await perform(step, Comp, props);
      settleInfo = await settle();
    } catch (e) {
      stepErrors.push(String((e && e.message) || e).split("\n")[0]);
    }
    out.steps.push({ step: stepName, action: step, html: container.innerHTML, renders: commits - c0,
      api: apiLog.slice(a0).map((c) => `${c.method} ${c.url}`), callbacks: calls.slice(k0).map((c) => c.fn),
      settled: settleInfo.settled && !stepLooped, rounds: settleInfo.rounds, errors: stepErrors.slice(),
      warnings: Array.from(new Set(stepWarnings)).slice(0, 5), timers: timers.size });
    if (i === 0 && job.derive && !job.steps) script.push(...deriveSteps());
  }
  const last = script[script.length - 1];
  if (!last || last.do !== "unmount") {
    stepName = `${script.length}:unmount`;
    stepErrors.length = 0;
    try { await act(async () => { root.unmount(); }); } catch (e) { stepErrors.push(String(e.message || e)); }
    script.push({ do: "unmount" });
    out.steps.push({ step: stepName, action: { do: "unmount" }, html: container.innerHTML, renders: 0, api: [],
      callbacks: [], settled: true, rounds: 0, errors: stepErrors.slice(), warnings: [], timers: timers.size });
  }
  out.timers_after_unmount = timers.size;
  out.script = script;
}

main().then(finish, (e) => {
  out.ok = false;
  out.errors.push(String((e && e.message) || e).split("\n")[0]);
  finish();
});
