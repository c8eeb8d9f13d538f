import { tryParse } from "./input";

function assert(cond: boolean, msg: string): void {
  if (!cond) throw new Error(msg);
}
const good = tryParse("[1]");
assert(good.ok && Array.isArray(good.value), "valid JSON should parse");
const bad = tryParse("{oops");
assert(!bad.ok && bad.error.length > 0, "invalid JSON should give an error message");
const thrown = tryParse('{"a": 1}', () => {
  throw "boom";
});
assert(!thrown.ok && thrown.error === "boom", `a thrown string should be reported as is: ${JSON.stringify(thrown)}`);
