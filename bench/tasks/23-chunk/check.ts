import { chunk } from "./input";

function assert(cond: boolean, msg: string): void {
  if (!cond) throw new Error(msg);
}
const show = (v: unknown): string => JSON.stringify(v);
function rangeError(f: () => unknown): boolean {
  try {
    f();
    return false;
  } catch (e) {
    return e instanceof RangeError;
  }
}

const xs = [1, 2, 3, 4, 5, 6, 7];
const cases: Array<[number, number[][]]> = [
  [3, [[1, 2, 3], [4, 5, 6], [7]]],
  [2, [[1, 2], [3, 4], [5, 6], [7]]],
  [1, [[1], [2], [3], [4], [5], [6], [7]]],
  [7, [[1, 2, 3, 4, 5, 6, 7]]],
  [10, [[1, 2, 3, 4, 5, 6, 7]]],
];
for (const [size, want] of cases) {
  const got = chunk(xs, size);
  assert(show(got) === show(want), `chunk(xs, ${size}) = ${show(got)}, want ${show(want)}`);
}
assert(show(chunk([], 3)) === "[]", `chunk([], 3) = ${show(chunk([], 3))}`);
assert(show(xs) === "[1,2,3,4,5,6,7]", "the input was modified");
const whole = chunk(xs, 100);
assert(whole.length === 1 && whole[0] !== xs, "a single group must still be a new array");

const frozen: readonly string[] = Object.freeze(["a", "b", "c", "d"]);
const words: string[][] = chunk(frozen, 2);
assert(show(words) === '[["a","b"],["c","d"]]', `strings: ${show(words)}`);
words[0].push("z");
assert(frozen.length === 4, "groups must not share storage with the input");

for (const bad of [0, -1, -3, 1.5, 0.5, NaN]) {
  assert(rangeError(() => chunk(xs, bad)), `size ${bad} must throw a RangeError`);
}
assert(rangeError(() => chunk([], 0)), "size 0 must throw even for an empty input");
