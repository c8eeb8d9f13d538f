import { first, last } from "./input";

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
type Expect<T extends true> = T;
const f = first([1, 2, 3]);
const l = last(["a", "b"]);
type _first = Expect<Equal<typeof f, number | undefined>>;
type _last = Expect<Equal<typeof l, string | undefined>>;

function assert(cond: boolean, msg: string): void {
  if (!cond) throw new Error(msg);
}
assert(f === 1 && l === "b", "first/last values wrong");
assert(first([]) === undefined && last([]) === undefined, "empty arrays should give undefined");
const ro: readonly number[] = [4, 5];
assert(first(ro) === 4, "readonly arrays must be accepted");
