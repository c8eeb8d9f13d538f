import { parseUser } from "./input";

type IsAny<T> = 0 extends 1 & T ? true : false;
type Expect<T extends true> = T;
type _notAny = Expect<IsAny<ReturnType<typeof parseUser>> extends true ? false : true>;
type _idIsNumber = Expect<ReturnType<typeof parseUser>["id"] extends number ? true : false>;
type _emailNullable = Expect<null extends ReturnType<typeof parseUser>["email"] ? true : false>;

function assert(cond: boolean, msg: string): void {
  if (!cond) throw new Error(msg);
}
function throws(f: () => unknown): boolean {
  try {
    f();
    return false;
  } catch {
    return true;
  }
}
const u = parseUser('{"id": 7, "name": "Ada", "email": "ada@example.com"}');
assert(u.id === 7 && u.name === "Ada" && u.email === "ada@example.com", "valid user parsed wrongly");
assert(parseUser('{"id": 1, "name": "Bo"}').email === null, "missing email should be null");
assert(throws(() => parseUser('{"id": "7", "name": "Ada"}')), "string id should throw");
assert(throws(() => parseUser('{"id": 7}')), "missing name should throw");
assert(throws(() => parseUser("42")), "non-object should throw");
