import { useFullName } from "./input";
import { mount } from "./mini-react";

function assert(cond: boolean, msg: string): void {
  if (!cond) throw new Error(msg);
}
const inst = mount(useFullName);
assert(inst.render({ first: "Ada", last: "Lovelace" }) === "Ada Lovelace", "first render wrong");
const second = inst.render({ first: "Grace", last: "Hopper" });
assert(second === "Grace Hopper", `render after a prop change returned a stale value: ${second}`);
