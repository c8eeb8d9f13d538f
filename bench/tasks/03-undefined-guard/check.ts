import { firstWord } from "./input";

function assert(cond: boolean, msg: string): void {
  if (!cond) throw new Error(msg);
}
assert(firstWord("  hello world ") === "hello", "firstWord('  hello world ') should be 'hello'");
assert(firstWord(undefined) === "", "firstWord(undefined) should be ''");
assert(firstWord("   ") === "", "firstWord('   ') should be ''");
