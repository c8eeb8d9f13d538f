import { countBy } from "./input";

function assert(cond: boolean, msg: string): void {
  if (!cond) throw new Error(msg);
}
const words = ["apple", "avocado", "banana", "cherry", "blueberry"];
const counts = countBy(words, (w) => w[0] ?? "");
const n: number | undefined = counts["a"];
assert(n === 2 && counts["b"] === 2 && counts["c"] === 1, `counts wrong: ${JSON.stringify(counts)}`);
assert(Object.keys(countBy([], (x: string) => x)).length === 0, "empty input gives {}");
