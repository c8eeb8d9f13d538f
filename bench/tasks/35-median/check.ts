import { median } from "./input";

function assert(cond: boolean, msg: string): void {
  if (!cond) throw new Error(msg);
}
const cases: Array<[number[], number]> = [
  [[7], 7],
  [[10, 9, 1], 9],
  [[4, 1, 3, 2], 2.5],
  [[1, 2], 1.5],
  [[100, 20, 3], 20],
  [[-5, -10, 0], -5],
  [[2.5, 1.25, 10, -3], 1.875],
  [[5, 5, 5, 5], 5],
  [[3, 1, 2, 1000, 11, 7], 5],
  [[-1, 1], 0],
];
for (const [values, want] of cases) {
  const before = values.join();
  const got = median(values);
  assert(got === want, `median([${before}]) = ${got}, want ${want}`);
  assert(values.join() === before, `median reordered its input: [${before}] -> [${values}]`);
}
let threw = false;
try {
  median([]);
} catch (e) {
  threw = e instanceof RangeError;
}
assert(threw, "median([]) must throw a RangeError");
