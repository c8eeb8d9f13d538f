import { groupTotals } from "./input";

function assert(cond: boolean, msg: string): void {
  if (!cond) throw new Error(msg);
}
const t = groupTotals([
  { customer: "bo", amount: 5 },
  { customer: "ada", amount: 2 },
  { customer: "bo", amount: 1.5 },
]);
assert([...t.keys()].join() === "bo,ada", "first-seen order lost");
assert(t.get("bo") === 6.5 && t.get("ada") === 2, `totals wrong: ${JSON.stringify([...t])}`);
assert(groupTotals([]).size === 0, "no orders give an empty map");
