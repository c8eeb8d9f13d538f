import { total } from "./input";

function assert(cond: boolean, msg: string): void {
  if (!cond) throw new Error(msg);
}
const t: number = total([1.5, 2, 3]);
assert(t === 6.5, `total([1.5, 2, 3]) should be 6.5, got ${t}`);
assert(total([]) === 0, "total([]) should be 0");
