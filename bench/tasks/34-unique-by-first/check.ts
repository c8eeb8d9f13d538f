import { uniqueBy } from "./input";

function assert(cond: boolean, msg: string): void {
  if (!cond) throw new Error(msg);
}
interface User {
  id: number;
  name: string;
}
const users: User[] = [
  { id: 2, name: "bo" },
  { id: 1, name: "ada" },
  { id: 2, name: "bo (duplicate)" },
  { id: 3, name: "cy" },
  { id: 1, name: "ada (duplicate)" },
];
const before = JSON.stringify(users);
const calls: number[] = [];
const got = uniqueBy(users, (u) => {
  calls.push(u.id);
  return u.id;
});
assert(got.map((u) => u.name).join() === "bo,ada,cy", `first per key, in order: ${got.map((u) => u.name)}`);
assert(got[0] === users[0] && got[1] === users[1] && got[2] === users[3], "items must be the original objects");
assert(JSON.stringify(users) === before, "the input was modified");
assert(calls.join() === "2,1,2,3,1", `key must be called once per item in order: ${calls}`);

const words = ["apple", "avocado", "banana", "blueberry", "cherry", "apricot"];
const byLetter = uniqueBy(words, (w) => w[0]);
assert(byLetter.join() === "apple,banana,cherry", `by first letter: ${byLetter}`);

const nums = uniqueBy([NaN, 1, NaN, 2, 1], (n) => n);
assert(nums.length === 3 && Number.isNaN(nums[0]) && nums[1] === 1 && nums[2] === 2, `NaN keys: ${nums}`);

const shared = { tag: "x" };
const objs = [{ k: shared, v: 1 }, { k: { tag: "x" }, v: 2 }, { k: shared, v: 3 }];
const byObj = uniqueBy(objs, (o) => o.k);
assert(byObj.map((o) => o.v).join() === "1,2", `object keys compare by identity: ${byObj.map((o) => o.v)}`);

const empty = uniqueBy([] as string[], (s) => s);
assert(Array.isArray(empty) && empty.length === 0, "empty input");
const all = [1, 2, 3];
const copy = uniqueBy(all, (n) => n);
assert(copy !== all && copy.join() === "1,2,3", "the result must be a new array");
