import { mergeRanges } from "./input";

function assert(cond: boolean, msg: string): void {
  if (!cond) throw new Error(msg);
}
const show = (v: unknown): string => JSON.stringify(v);
type R = [number, number];
const cases: Array<[R[], R[]]> = [
  [[], []],
  [[[1, 3]], [[1, 3]]],
  [[[1, 3], [3, 5]], [[1, 5]]],
  [[[1, 2], [3, 4]], [[1, 2], [3, 4]]],
  [[[1, 10], [2, 3]], [[1, 10]]],
  [[[8, 9], [1, 4], [2, 6], [12, 12]], [[1, 6], [8, 9], [12, 12]]],
  [[[5, 7], [1, 2], [2, 5]], [[1, 7]]],
  [[[-5, -1], [-2, 0], [0.5, 1.5]], [[-5, 0], [0.5, 1.5]]],
  [[[4, 4], [4, 4]], [[4, 4]]],
  [[[1, 5], [2, 3], [4, 8], [9, 9]], [[1, 8], [9, 9]]],
];
for (const [input, want] of cases) {
  const before = show(input);
  const got = mergeRanges(input);
  assert(show(got) === show(want), `mergeRanges(${before}) = ${show(got)}, want ${show(want)}`);
  assert(show(input) === before, `mergeRanges modified its input ${before} -> ${show(input)}`);
}
const single: R = [1, 3];
const out = mergeRanges([single]);
assert(out[0] !== single, "returned tuples must be new arrays");
out[0][1] = 99;
assert(single[1] === 3, "changing the result changed the input");
const frozen = Object.freeze([Object.freeze([3, 4] as const), Object.freeze([1, 3] as const)]);
assert(show(mergeRanges(frozen)) === "[[1,4]]", "frozen input");
let threw = false;
try {
  mergeRanges([[1, 2], [5, 3]]);
} catch (e) {
  threw = e instanceof RangeError;
}
assert(threw, "a range with start > end must throw a RangeError");
