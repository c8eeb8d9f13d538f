import { topoSort } from "./input";

function assert(cond: boolean, msg: string): void {
  if (!cond) throw new Error(msg);
}
const show = (v: unknown): string => JSON.stringify(v);
const cases: Array<[Record<string, string[]>, string[]]> = [
  [{}, []],
  [{ solo: [] }, ["solo"]],
  [{ app: ["lib", "utils"], lib: ["utils"], utils: [] }, ["utils", "lib", "app"]],
  [{ a: ["z"], b: [], z: [] }, ["b", "z", "a"]],
  [{ c: ["a"], b: [], a: [] }, ["a", "b", "c"]],
  [{ d: ["b", "c"], b: ["a"], c: ["a"] }, ["a", "b", "c", "d"]],
  [{ y: ["x", "x", "x"] }, ["x", "y"]],
  [{ a: [], B: [] }, ["B", "a"]],
  [{ web: ["api", "ui"], ui: ["design"], api: ["db"], worker: ["db"] }, ["db", "api", "design", "ui", "web", "worker"]],
  [{ m: ["k"], k: ["j"], j: [], a: ["m"], n: [] }, ["j", "k", "m", "a", "n"]],
];
for (const [deps, want] of cases) {
  const before = show(deps);
  const got = topoSort(deps);
  assert(show(got) === show(want), `topoSort(${before}) = ${show(got)}, want ${show(want)}`);
  assert(show(deps) === before, `topoSort modified its input: ${before} -> ${show(deps)}`);
}
const cycles: Array<Record<string, string[]>> = [
  { a: ["b"], b: ["a"] },
  { a: ["a"] },
  { a: ["b"], b: ["c"], c: ["a"], d: [] },
  { ok: [], x: ["ok", "y"], y: ["x"] },
];
for (const deps of cycles) {
  let message = "";
  try {
    const got = topoSort(deps);
    message = `returned ${show(got)}`;
  } catch (e) {
    message = e instanceof Error ? e.message : String(e);
  }
  assert(/cycle/.test(message), `topoSort(${show(deps)}) must throw an Error mentioning "cycle" (${message})`);
}
