import { binarySearch } from "./input";

function assert(cond: boolean, msg: string): void {
  if (!cond) throw new Error(msg);
}
function counted(items: number[]): { array: readonly number[]; reads: () => number } {
  let n = 0;
  const array = new Proxy(items, {
    get(target, prop, receiver) {
      if (typeof prop === "string" && /^\d+$/.test(prop)) n++;
      return Reflect.get(target, prop, receiver);
    },
  });
  return { array, reads: () => n };
}
for (let size = 0; size <= 12; size++) {
  const items = Array.from({ length: size }, (_, i) => i * 10 - 20);
  for (let i = 0; i < size; i++) {
    const got = binarySearch(items, items[i]);
    assert(got === i, `binarySearch([${items}], ${items[i]}) = ${got}, want ${i}`);
  }
  for (const missing of [-25, -15, 5, 1000, items.length ? items[size - 1] + 5 : 0]) {
    const got = binarySearch(items, missing);
    assert(got === -1, `binarySearch([${items}], ${missing}) = ${got}, want -1`);
  }
}
const big = Array.from({ length: 1000 }, (_, i) => i * 3);
const limit = 2 * Math.ceil(Math.log2(big.length + 1));
for (const target of [0, 3, 1500, 2997, 2996, -1, 4000]) {
  const { array, reads } = counted(big);
  const got = binarySearch(array, target);
  const want = target % 3 === 0 && target >= 0 && target < 3000 ? target / 3 : -1;
  assert(got === want, `binarySearch(0,3,...,2997, ${target}) = ${got}, want ${want}`);
  assert(reads() <= limit, `read ${reads()} elements to find ${target}; a binary search reads at most ${limit}`);
}
