import { useCounterButton } from "./input";
import { mount } from "./mini-react";

function assert(cond: boolean, msg: string): void {
  if (!cond) throw new Error(msg);
}
const seen: number[] = [];
const onChange = (n: number): void => {
  seen.push(n);
};
const inst = mount(useCounterButton);
const a = inst.render({ value: 10, step: 1, onChange });
const b = inst.render({ value: 10, step: 1, onChange });
assert(a === b, "onClick must be the same function while its inputs are unchanged");
inst.render({ value: 10, step: 5, onChange })();
assert(seen[0] === 15, `click after step change reported ${seen[0]}`);
const other: number[] = [];
inst.render({ value: 10, step: 5, onChange: (n: number) => other.push(n) })();
assert(other[0] === 15, "click after onChange change went to the old handler");
