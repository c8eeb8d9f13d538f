import { area } from "./input";

function assert(cond: boolean, msg: string): void {
  if (!cond) throw new Error(msg);
}
// @ts-expect-error a shape without a known kind must be rejected by the type
area({ kind: "hexagon", side: 2 });
assert(Math.abs(area({ kind: "circle", radius: 1 }) - Math.PI) < 1e-9, "circle area wrong");
assert(area({ kind: "square", side: 3 }) === 9, "square area wrong");
assert(area({ kind: "rect", width: 2, height: 5 }) === 10, "rect area wrong");
