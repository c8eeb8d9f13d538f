import { counterReducer } from "./input";

function assert(cond: boolean, msg: string): void {
  if (!cond) throw new Error(msg);
}
// @ts-expect-error unknown action types must not type-check
counterReducer({ count: 1 }, { type: "explode" });
const s = counterReducer(counterReducer({ count: 0 }, { type: "increment", by: 5 }), { type: "decrement", by: 2 });
assert(s.count === 3, `increment/decrement wrong: ${s.count}`);
assert(counterReducer({ count: 9 }, { type: "reset" }).count === 0, "reset should give 0");
