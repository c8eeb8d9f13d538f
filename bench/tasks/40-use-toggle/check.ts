import { useToggle } from "./input";
import { mount } from "./mini-react";

function assert(cond: boolean, msg: string): void {
  if (!cond) throw new Error(msg);
}
const inst = mount(useToggle);
const [v0, t0] = inst.render(false);
assert(v0 === false, "initial value");
t0();
const [v1, t1] = inst.render(false);
assert(v1 === true, "one toggle flips the value");
assert(t1 === t0, "toggle must be the same function on every render");
t1();
t1();
const [v2, t2] = inst.render(false);
assert(v2 === true, "two toggles between renders must cancel out");
t1();
t1();
t1();
const [v3] = inst.render(true);
assert(v3 === false, "three toggles flip once more; a later initial value is ignored");
t0();
const [v4, t4] = inst.render(false);
assert(v4 === true && t4 === t2, "a toggle kept from the first render still flips the current value");

const other = mount(useToggle);
const [w0, u0] = other.render(true);
assert(w0 === true && u0 !== t0, "each instance has its own state and toggle");
u0();
assert(other.render(true)[0] === false && inst.render(false)[0] === true, "instances are independent");
