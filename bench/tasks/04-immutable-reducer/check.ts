import { todosReducer, TodoState } from "./input";

function assert(cond: boolean, msg: string): void {
  if (!cond) throw new Error(msg);
}
const s0: TodoState = { items: [{ id: 1, title: "a", done: false }], nextId: 2 };
const snapshot = JSON.stringify(s0);
const firstItem = s0.items[0];

const s1 = todosReducer(s0, { type: "add", title: "b" });
assert(JSON.stringify(s0) === snapshot, "add mutated the previous state");
assert(s1 !== s0 && s1.items !== s0.items, "add must return a new state and a new items array");
assert(s1.items.length === 2 && s1.items[1].title === "b" && s1.nextId === 3, "add result wrong");

const s2 = todosReducer(s1, { type: "toggle", id: 1 });
assert(firstItem.done === false, "toggle mutated the previous todo object");
assert(s2 !== s1 && s2.items[0].done === true, "toggle result wrong");

const s3 = todosReducer(s2, { type: "remove", id: 1 });
assert(s2.items.length === 2, "remove mutated the previous items array");
assert(s3.items.length === 1 && s3.items[0].id === 2, "remove result wrong");
