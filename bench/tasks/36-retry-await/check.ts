import { retry } from "./input";

function assert(cond: boolean, msg: string): void {
  if (!cond) throw new Error(msg);
}
const tick = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 1));

function flaky(failures: number, value: string) {
  let calls = 0;
  let running = 0;
  let overlapped = false;
  const fn = async (): Promise<string> => {
    calls++;
    running++;
    if (running > 1) overlapped = true;
    await tick();
    running--;
    if (calls <= failures) throw new Error(`failure ${calls}`);
    return value;
  };
  return { fn, calls: () => calls, overlapped: () => overlapped };
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error("expected the promise to reject");
}

async function main(): Promise<void> {
  const ok = flaky(0, "first");
  assert((await retry(ok.fn, 3)) === "first" && ok.calls() === 1, `success at once: ${ok.calls()} calls`);

  const two = flaky(2, "third");
  assert((await retry(two.fn, 3)) === "third", "should resolve after two failures");
  assert(two.calls() === 3 && !two.overlapped(), `3 sequential calls expected, got ${two.calls()}`);

  const never = flaky(100, "x");
  const err = await rejection(retry(never.fn, 4));
  assert(never.calls() === 4, `all attempts used: ${never.calls()} calls, want 4`);
  assert(err instanceof Error && err.message === "failure 4", `rejects with the last error: ${String(err)}`);
  assert(!never.overlapped(), "calls must not overlap");

  const once = flaky(1, "y");
  const e1 = await rejection(retry(once.fn, 1));
  assert(once.calls() === 1 && e1 instanceof Error && e1.message === "failure 1", "attempts = 1");

  const thrown = { code: 42 };
  let syncCalls = 0;
  const syncThrow = (): Promise<number> => {
    syncCalls++;
    if (syncCalls < 3) throw thrown;
    return Promise.resolve(7);
  };
  assert((await retry(syncThrow, 5)) === 7 && syncCalls === 3, `synchronous throws count as failures (${syncCalls} calls)`);
  let always = 0;
  const e2 = await rejection(
    retry((): Promise<number> => {
      always++;
      throw thrown;
    }, 2),
  );
  assert(e2 === thrown && always === 2, "rejects with exactly the value thrown last");

  for (const bad of [0, -1, 1.5, NaN]) {
    let called = false;
    let p: Promise<string> | undefined;
    try {
      p = retry(async () => {
        called = true;
        return "z";
      }, bad);
    } catch {
      throw new Error(`retry(fn, ${bad}) threw synchronously instead of rejecting`);
    }
    const e = await rejection(p);
    assert(e instanceof RangeError && !called, `retry(fn, ${bad}) must reject with a RangeError without calling fn`);
  }
}

main().catch((e: unknown) => {
  setTimeout(() => {
    throw e;
  });
});
