import { isStringArray } from "./input";

function assert(cond: boolean, msg: string): void {
  if (!cond) throw new Error(msg);
}
function joined(value: unknown): string {
  if (isStringArray(value)) {
    const items: string[] = value;
    return items.join("+");
  }
  return "";
}
assert(joined(["a", "b"]) === "a+b", "string arrays should pass");
assert(isStringArray([]), "an empty array is a string array");
assert(!isStringArray(["a", 1]), "mixed arrays are not string arrays");
assert(!isStringArray("ab"), "a string is not an array");
