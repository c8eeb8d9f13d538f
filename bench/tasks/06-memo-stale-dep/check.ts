import { Row, useVisibleRows } from "./input";
import { mount } from "./mini-react";

function assert(cond: boolean, msg: string): void {
  if (!cond) throw new Error(msg);
}
let computed = 0;
const onCompute = (): void => {
  computed++;
};
const rows: Row[] = [
  { name: "beta", size: 1 },
  { name: "alpha", size: 3 },
  { name: "alphabet", size: 2 },
];
const inst = mount(useVisibleRows);
const a = inst.render({ rows, query: "alp", sortBy: "name", onCompute });
assert(a.map((r) => r.name).join() === "alpha,alphabet", `sorted by name: ${a.map((r) => r.name)}`);
inst.render({ rows, query: "alp", sortBy: "name", onCompute });
assert(computed === 1, `memo recomputed without a change (${computed} computations)`);
const b = inst.render({ rows, query: "alp", sortBy: "size", onCompute });
assert(b.map((r) => r.name).join() === "alphabet,alpha", `sorted by size: ${b.map((r) => r.name)}`);
assert(rows[0].name === "beta", "the input array must not be reordered");
