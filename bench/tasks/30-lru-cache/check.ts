import { LruCache } from "./input";

function assert(cond: boolean, msg: string): void {
  if (!cond) throw new Error(msg);
}
const evicted: string[] = [];
const c = new LruCache<string, number>(3, (k, v) => evicted.push(`${k}=${v}`));
c.set("a", 1).set("b", 2).set("c", 3);
assert(c.size === 3 && c.keys().join() === "a,b,c", `after three sets: ${c.keys()}`);
assert(c.get("a") === 1, "get a");
assert(c.keys().join() === "b,c,a", `get must mark a key as used: ${c.keys()}`);
assert(c.has("b") && c.keys().join() === "b,c,a", `has must not mark a key as used: ${c.keys()}`);
c.set("d", 4);
assert(!c.has("b") && evicted.join() === "b=2", `the least recently used key (b) should go: ${c.keys()} evicted ${evicted}`);
assert(c.get("b") === undefined, "evicted key still readable");
c.set("c", 30);
assert(c.size === 3 && evicted.length === 1, `updating a key must not evict (size ${c.size}, evicted ${evicted})`);
assert(c.keys().join() === "a,d,c" && c.get("c") === 30, `update must mark as used and store: ${c.keys()}`);
c.set("e", 5);
assert(evicted.join() === "b=2,a=1", `second eviction: ${evicted}`);
assert(c.delete("d") === true && c.delete("d") === false && c.size === 2, "delete");
assert(evicted.length === 2, "delete must not call onEvict");
c.set("f", 6);
assert(c.size === 3 && evicted.length === 2, "after a delete there is room again");
assert(c.keys().join() === "c,e,f", `order: ${c.keys()}`);

const one = new LruCache<number, string | undefined>(1);
one.set(1, undefined);
assert(one.has(1) && one.get(1) === undefined && one.size === 1, "undefined values are stored");
one.set(2, "two");
assert(!one.has(1) && one.get(2) === "two" && one.size === 1, "capacity 1");

const objKey = { id: 1 };
const byObj = new LruCache<object, number>(2);
byObj.set(objKey, 1);
assert(byObj.get({ id: 1 }) === undefined && byObj.get(objKey) === 1, "keys compare like Map keys");

for (const bad of [0, -1, 2.5, NaN]) {
  let threw = false;
  try {
    new LruCache<string, number>(bad);
  } catch (e) {
    threw = e instanceof RangeError;
  }
  assert(threw, `capacity ${bad} must throw a RangeError`);
}
