import { paginate } from "./input";

function assert(cond: boolean, msg: string): void {
  if (!cond) throw new Error(msg);
}
const items = [1, 2, 3, 4, 5, 6, 7];
const p1 = paginate(items, 1, 3);
assert(p1.items.join() === "1,2,3" && p1.totalPages === 3 && p1.hasNext, `page 1: ${JSON.stringify(p1)}`);
const p3 = paginate(items, 3, 3);
assert(p3.items.join() === "7" && !p3.hasNext, `page 3: ${JSON.stringify(p3)}`);
const p4 = paginate(items, 4, 3);
assert(p4.items.length === 0 && !p4.hasNext, `page 4: ${JSON.stringify(p4)}`);
const empty = paginate([], 1, 3);
assert(empty.totalPages === 1 && !empty.hasNext, `empty: ${JSON.stringify(empty)}`);
