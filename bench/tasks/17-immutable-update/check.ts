import { Item, updateItem } from "./input";

function assert(cond: boolean, msg: string): void {
  if (!cond) throw new Error(msg);
}
const list: Item[] = [
  { id: "a", label: "apple", qty: 1 },
  { id: "b", label: "bread", qty: 2 },
];
const before = JSON.stringify(list);
const next = updateItem(list, "b", { qty: 5 });
assert(JSON.stringify(list) === before, "the input list or its items were mutated");
assert(next !== list, "a change must return a new array");
assert(next[0] === list[0], "unchanged items must keep their identity");
assert(next[1] !== list[1] && next[1].qty === 5 && next[1].label === "bread", "updated item wrong");
assert(updateItem(list, "zzz", { qty: 9 }) === list, "unknown id should return the same array");
