import { pick } from "./input";

type Equal<A, B> = (<X>() => X extends A ? 1 : 2) extends <X>() => X extends B ? 1 : 2 ? true : false;
type Expect<T extends true> = T;

function assert(cond: boolean, msg: string): void {
  if (!cond) throw new Error(msg);
}
interface User {
  id: number;
  name: string;
  email?: string;
  admin: boolean;
}
const user: User = { id: 1, name: "Ada", admin: true };
const before = JSON.stringify(user);
const p = pick(user, ["id", "name"]);
type _picked = Expect<Equal<typeof p, Pick<User, "id" | "name">>>;
// @ts-expect-error keys must be keys of the object
pick(user, ["id", "nope"]);
// @ts-expect-error properties that were not picked are not on the result
p.admin;
const id: number = p.id;
assert(id === 1 && JSON.stringify(p) === '{"id":1,"name":"Ada"}', `pick(user, [id, name]) = ${JSON.stringify(p)}`);
assert((p as object) !== user && JSON.stringify(user) === before, "must return a new object and leave the input alone");

const withMissing = pick(user, ["email", "admin"]);
assert(Object.keys(withMissing).join() === "admin", `a key the object lacks must be left out: ${Object.keys(withMissing)}`);
assert(!("email" in withMissing), "email must not be set to undefined");
const explicit: User = { id: 2, name: "Bo", email: undefined, admin: false };
assert(Object.keys(pick(explicit, ["email"])).join() === "email", "an own property holding undefined is kept");
assert(Object.keys(pick(user, [])).length === 0, "no keys give an empty object");

const proto = { shared: 1 };
const child: { shared: number; own: number } = Object.assign(Object.create(proto) as { shared: number }, { own: 2 });
const c = pick(child, ["shared", "own"]);
assert(JSON.stringify(c) === '{"own":2}' && !("shared" in c), `inherited properties are not own properties: ${JSON.stringify(c)}`);

const readonlyKeys: readonly ("a" | "b")[] = ["b"];
const fromReadonly = pick({ a: 1, b: "two", c: true }, readonlyKeys);
const b: string = fromReadonly.b;
assert(b === "two" && Object.keys(fromReadonly).join() === "b", "readonly key arrays work");
