import { memoize } from "./input";

function assert(cond: boolean, msg: string): void {
  if (!cond) throw new Error(msg);
}
let calls = 0;
const square = memoize((n: number): number => {
  calls++;
  return n * n;
});
assert(square(3) === 9 && square(4) === 16, "memoized results wrong");
assert(square(3) === 9 && calls === 2, `expected 2 calls to fn, got ${calls}`);
let nullCalls = 0;
const maybe = memoize((s: string): string | undefined => {
  nullCalls++;
  return s === "x" ? undefined : s;
});
maybe("x");
maybe("x");
assert(nullCalls === 1, "an undefined result must be cached too");
