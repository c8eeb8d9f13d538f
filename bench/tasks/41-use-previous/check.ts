import { usePrevious } from "./input";
import { mount } from "./mini-react";

function assert(cond: boolean, msg: string): void {
  if (!cond) throw new Error(msg);
}
const nums = mount((v: number) => usePrevious(v));
const seen = [1, 2, 2, 3, 0, 0].map((v) => nums.render(v));
assert(JSON.stringify(seen) === JSON.stringify([undefined, 1, 2, 2, 3, 0]), `1,2,2,3,0,0 gave ${JSON.stringify(seen)}`);

const a = { id: "a" };
const b = { id: "b" };
const objs = mount((v: { id: string }) => usePrevious(v));
assert(objs.render(a) === undefined, "first render");
assert(objs.render(b) === a, "previous object must be the same object");
assert(objs.render(b) === b, "same object twice");

const maybe = mount((v: string | undefined) => usePrevious(v));
maybe.render("x");
assert(maybe.render(undefined) === "x", "previous of an undefined render");
assert(maybe.render("y") === undefined, "undefined is a real previous value");

const typed = mount((v: number) => {
  const prev: number | undefined = usePrevious(v);
  return prev === undefined ? "first" : `${prev}->${v}`;
});
assert(typed.render(5) === "first" && typed.render(8) === "5->8", "usable in a component");
const again = mount((v: number) => usePrevious(v));
assert(again.render(9) === undefined, "each instance has its own previous value");
