import { compressRuns, expandRuns } from "./input";

function assert(cond: boolean, msg: string): void {
  if (!cond) throw new Error(msg);
}
const q = (s: string): string => JSON.stringify(s);
const pairs: Array<[string, string]> = [
  ["", ""],
  ["a", "a"],
  ["abc", "abc"],
  ["aaabcc", "a3bc2"],
  ["x".repeat(12), "x12"],
  ["aab", "a2b"],
  ["abb", "ab2"],
  ["  !!!?", " 2!3?"],
  ["aaaaaaaaaab", "a10b"],
  ["ababab", "ababab"],
  ["zz" + "y".repeat(100) + "z", "z2y100z"],
];
for (const [plain, packed] of pairs) {
  const c = compressRuns(plain);
  assert(c === packed, `compressRuns(${q(plain)}) = ${q(c)}, want ${q(packed)}`);
  const e = expandRuns(packed);
  assert(e === plain, `expandRuns(${q(packed)}) = ${q(e)}, want ${q(plain)}`);
}
assert(expandRuns("a1b1") === "ab", `explicit count 1: ${q(expandRuns("a1b1"))}`);
const samples = ["mississippi", "hello   world", "...---...", "AAAaaaAAA", "q"];
for (const s of samples) {
  const back = expandRuns(compressRuns(s));
  assert(back === s, `round trip of ${q(s)} gave ${q(back)}`);
}
