import { Result, andThen, collect, err, map, ok, unwrapOr } from "./input";

type Equal<A, B> = (<X>() => X extends A ? 1 : 2) extends <X>() => X extends B ? 1 : 2 ? true : false;
type Expect<T extends true> = T;

function assert(cond: boolean, msg: string): void {
  if (!cond) throw new Error(msg);
}
type _union = Expect<Equal<Result<number, string>, { ok: true; value: number } | { ok: false; error: string }>>;
const one = ok(1);
type _ok = Expect<Equal<typeof one, Result<number, never>>>;
const boom = err("boom");
type _err = Expect<Equal<typeof boom, Result<never, string>>>;

function describe(r: Result<number, string>): string {
  if (r.ok) {
    const v: number = r.value;
    return `value ${v}`;
  }
  const e: string = r.error;
  return `error ${e}`;
}
function peek(r: Result<number, string>): unknown {
  // @ts-expect-error value is only readable after narrowing
  return r.value;
}
const mapped = map(ok(2), (n) => `#${n}`);
type _mapped = Expect<Equal<typeof mapped, Result<string, never>>>;

assert(describe(ok(3)) === "value 3" && describe(err("bad")) === "error bad", "describe");
assert(peek(ok(4)) === 4, "peek");
assert(mapped.ok && mapped.value === "#2", `map over a success: ${JSON.stringify(mapped)}`);
let called = 0;
const failed: Result<number, string> = err("nope");
const mappedErr = map(failed, (n) => {
  called++;
  return n * 2;
});
assert(mappedErr === failed && called === 0, "map over a failure returns the same object without calling f");

const half = (n: number): Result<number, string> => (n % 2 === 0 ? ok(n / 2) : err(`${n} is odd`));
const chained = andThen(andThen(ok(12), half), half);
assert(chained.ok && chained.value === 3, `andThen chain: ${JSON.stringify(chained)}`);
const odd = andThen(ok(5), half);
assert(!odd.ok && odd.error === "5 is odd", `andThen to a failure: ${JSON.stringify(odd)}`);
const stopped = andThen(odd, (n) => {
  called++;
  return half(n);
});
assert(stopped === odd && called === 0, "andThen over a failure returns the same object without calling f");

const maybe: Result<number | undefined, string> = ok(undefined);
assert(unwrapOr(maybe, 7) === undefined, "unwrapOr keeps an undefined success value");
assert(unwrapOr(ok<number | null>(null), 7) === null, "unwrapOr keeps null");
assert(unwrapOr(ok(0), 7) === 0 && unwrapOr(ok(""), "x") === "", "unwrapOr keeps falsy values");
assert(unwrapOr(failed, 7) === 7, "unwrapOr falls back on failure");

const e1: Result<number, string> = err("first");
const e2: Result<number, string> = err("second");
const all = collect([ok(1), ok(2), ok(3)]);
assert(all.ok && all.value.join() === "1,2,3", `collect successes: ${JSON.stringify(all)}`);
const firstFailure = collect([ok(1), e1, ok(3), e2]);
assert(firstFailure === e1, `collect returns the first failure itself: ${JSON.stringify(firstFailure)}`);
const none = collect([] as Result<number, string>[]);
assert(none.ok && Array.isArray(none.value) && none.value.length === 0, "collect([]) is a success with []");
const collected: Result<number[], string> = collect([ok(1), e1]);
assert(!collected.ok, "typed collect");
