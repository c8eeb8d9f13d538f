import { Point, useChartPoints } from "./input";
import { mount } from "./mini-react";

function assert(cond: boolean, msg: string): void {
  if (!cond) throw new Error(msg);
}
const show = (v: unknown): string => JSON.stringify(v);
const points: Point[] = [
  { x: 0, y: 1 },
  { x: 1, y: -2 },
  { x: 2, y: 0.5 },
];
const before = show(points);
const inst = mount(useChartPoints);
const a = inst.render({ points, options: { scale: 2, offset: 1 } });
assert(show(a) === show([{ x: 0, y: 3 }, { x: 1, y: -3 }, { x: 2, y: 2 }]), `scaled points: ${show(a)}`);
const b = inst.render({ points, options: { scale: 2, offset: 1 } });
assert(b === a, "a new options object with the same numbers must reuse the memoized array");
const c = inst.render({ points, options: { offset: 1, scale: 2 } });
assert(c === a, "still the same array on a third render");
const d = inst.render({ points, options: { scale: 3, offset: 1 } });
assert(d !== a && show(d) === show([{ x: 0, y: 4 }, { x: 1, y: -5 }, { x: 2, y: 2.5 }]), `scale change: ${show(d)}`);
const e = inst.render({ points, options: { scale: 3, offset: 0 } });
assert(e !== d && show(e) === show([{ x: 0, y: 3 }, { x: 1, y: -6 }, { x: 2, y: 1.5 }]), `offset change: ${show(e)}`);
const same = [...points];
const f = inst.render({ points: same, options: { scale: 3, offset: 0 } });
assert(f !== e && show(f) === show(e), "a new points array must recompute");
const g = inst.render({ points: same, options: { scale: 3, offset: 0 } });
assert(g === f, "unchanged again: reuse");
assert(show(points) === before, "the input points were modified");
assert(a[0] !== points[0], "output points are new objects");
