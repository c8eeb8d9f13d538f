import { KeyValueStore, useStoredNumber } from "./input";
import { mount } from "./mini-react";

function assert(cond: boolean, msg: string): void {
  if (!cond) throw new Error(msg);
}
class MemoryStore implements KeyValueStore {
  reads: string[] = [];
  writes: string[] = [];
  constructor(private readonly data: Record<string, string> = {}) {}
  getItem(key: string): string | null {
    this.reads.push(key);
    return Object.prototype.hasOwnProperty.call(this.data, key) ? this.data[key] : null;
  }
  setItem(key: string, value: string): void {
    this.writes.push(`${key}=${value}`);
    this.data[key] = value;
  }
}
interface Props {
  k: string;
  fallback: number;
  store: KeyValueStore;
}
const hook = ({ k, fallback, store }: Props) => useStoredNumber(k, fallback, store);

const store = new MemoryStore({ score: "12.5" });
const inst = mount(hook);
const [v0, set0] = inst.render({ k: "score", fallback: 0, store });
assert(v0 === 12.5, `stored value: ${v0}`);
const [v1, set1] = inst.render({ k: "score", fallback: 0, store });
inst.render({ k: "score", fallback: 7, store });
assert(store.reads.length === 1, `getItem must run once, on the first render (ran ${store.reads.length} times)`);
assert(v1 === 12.5 && set1 === set0, "setter must be stable while key and storage are the same");
set1(5);
assert(store.writes.join() === "score=5", `setValue must write through at once: ${store.writes}`);
const [v2] = inst.render({ k: "score", fallback: 0, store });
assert(v2 === 5 && store.reads.length === 1, `value after setValue: ${v2}`);
set0(-3);
assert(inst.render({ k: "score", fallback: 0, store })[0] === -3 && store.writes.join() === "score=5,score=-3", "a kept setter still works");

const cases: Array<[string | undefined, number]> = [
  [undefined, 42],
  ["abc", 42],
  ["", 42],
  ["   ", 42],
  ["Infinity", 42],
  ["NaN", 42],
  ["0", 0],
  [" 8 ", 8],
  ["-1e3", -1000],
];
for (const [stored, want] of cases) {
  const s = new MemoryStore(stored === undefined ? {} : { n: stored });
  const got = mount(hook).render({ k: "n", fallback: 42, store: s })[0];
  assert(Object.is(got, want), `stored ${JSON.stringify(stored)} with fallback 42 gave ${got}, want ${want}`);
}

const s2 = new MemoryStore();
const other = mount(hook);
other.render({ k: "a", fallback: 1, store: s2 });
const [, setB] = other.render({ k: "b", fallback: 1, store: s2 });
setB(2);
assert(s2.writes.join() === "b=2", `the setter writes under the current key: ${s2.writes}`);
assert(s2.reads.join() === "a", `getItem runs only on the first render, even when the key changes: ${s2.reads}`);
