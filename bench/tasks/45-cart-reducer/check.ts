import { CartItem, cartReducer, useCart } from "./input";
import { mount } from "./mini-react";

function assert(cond: boolean, msg: string): void {
  if (!cond) throw new Error(msg);
}
const show = (v: unknown): string => JSON.stringify(v);
function frozen(items: CartItem[]): CartItem[] {
  return Object.freeze(items.map((i) => Object.freeze({ ...i }))) as CartItem[];
}

const s0 = frozen([
  { id: "pen", price: 150, qty: 2 },
  { id: "ink", price: 900, qty: 1 },
]);
const s1 = cartReducer(s0, { type: "add", id: "pen", price: 999 });
assert(show(s1) === show([{ id: "pen", price: 150, qty: 3 }, { id: "ink", price: 900, qty: 1 }]), `add existing: ${show(s1)}`);
assert(s1 !== s0 && s1[0] !== s0[0] && s1[1] === s0[1], "add: new array, new changed item, unchanged item kept");
const s2 = cartReducer(s0, { type: "add", id: "pad", price: 300 });
assert(show(s2) === show([...s0, { id: "pad", price: 300, qty: 1 }]) && s2[0] === s0[0], `add new: ${show(s2)}`);
const s3 = cartReducer(s0, { type: "setQty", id: "ink", qty: 4 });
assert(show(s3) === show([{ id: "pen", price: 150, qty: 2 }, { id: "ink", price: 900, qty: 4 }]) && s3[0] === s0[0], `setQty: ${show(s3)}`);
for (const qty of [0, -2]) {
  const s = cartReducer(s0, { type: "setQty", id: "pen", qty });
  assert(show(s) === show([{ id: "ink", price: 900, qty: 1 }]) && s[0] === s0[1], `setQty ${qty} removes: ${show(s)}`);
}
const s4 = cartReducer(s0, { type: "remove", id: "ink" });
assert(show(s4) === show([s0[0]]) && s4[0] === s0[0], `remove: ${show(s4)}`);
assert(cartReducer(s0, { type: "remove", id: "nope" }) === s0, "remove of an unknown id returns the same state");
assert(cartReducer(s0, { type: "setQty", id: "nope", qty: 3 }) === s0, "setQty of an unknown id returns the same state");
const empty = frozen([]);
assert(cartReducer(empty, { type: "clear" }) === empty, "clear on an empty cart returns the same state");
const cleared = cartReducer(s0, { type: "clear" });
assert(cleared.length === 0 && s0.length === 2, "clear");

const inst = mount(useCart);
const c0 = inst.render(undefined);
assert(c0.items.length === 0 && c0.total === 0, "starts empty");
c0.add("pen", 150);
c0.add("pen", 150);
c0.add("ink", 900);
const c1 = inst.render(undefined);
assert(show(c1.items) === show([{ id: "pen", price: 150, qty: 2 }, { id: "ink", price: 900, qty: 1 }]), `three adds: ${show(c1.items)}`);
assert(c1.total === 1200, `total: ${c1.total}`);
assert(c1.add === c0.add && c1.remove === c0.remove && c1.setQty === c0.setQty && c1.clear === c0.clear,
  "add, remove, setQty and clear must be the same functions on every render");
c1.setQty("ink", 3);
c0.remove("pen");
const c2 = inst.render(undefined);
assert(show(c2.items) === show([{ id: "ink", price: 900, qty: 3 }]) && c2.total === 2700, `setQty + remove: ${show(c2.items)}`);
const c3 = inst.render(undefined);
assert(c3.items === c2.items, "items keep their identity while nothing is dispatched");
c3.clear();
const c4 = inst.render(undefined);
assert(c4.items.length === 0 && c4.total === 0, "clear via the hook");
