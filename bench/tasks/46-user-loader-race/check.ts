import { LoadState, User, useUser } from "./input";
import { mount } from "./mini-react";

function assert(cond: boolean, msg: string): void {
  if (!cond) throw new Error(msg);
}
const show = (v: unknown): string => JSON.stringify(v);
const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

interface Pending {
  id: string;
  resolve: (u: User) => void;
  reject: (reason: unknown) => void;
}
function makeFetcher() {
  const calls: Pending[] = [];
  const fetchUser = (id: string): Promise<User> =>
    new Promise<User>((resolve, reject) => {
      calls.push({ id, resolve, reject });
    });
  return { fetchUser, calls };
}

async function main(): Promise<void> {
  const f = makeFetcher();
  const inst = mount(useUser);
  const r0: LoadState<User> = inst.render({ id: "a", fetchUser: f.fetchUser });
  assert(r0.status === "loading", `first render: ${show(r0)}`);
  assert(f.calls.length === 1 && f.calls[0].id === "a", `one fetch for a: ${show(f.calls.map((c) => c.id))}`);
  inst.render({ id: "a", fetchUser: f.fetchUser });
  assert(f.calls.length === 1, "a render with the same id and fetchUser must not fetch");

  f.calls[0].resolve({ id: "a", name: "Ada" });
  await settle();
  const r1 = inst.render({ id: "a", fetchUser: f.fetchUser });
  assert(show(r1) === show({ status: "done", value: { id: "a", name: "Ada" } }), `after a resolves: ${show(r1)}`);

  inst.render({ id: "b", fetchUser: f.fetchUser });
  assert(f.calls.length === 2 && f.calls[1].id === "b", "id change fetches b");
  const r2 = inst.render({ id: "b", fetchUser: f.fetchUser });
  assert(r2.status === "loading", `loading b: ${show(r2)}`);
  inst.render({ id: "c", fetchUser: f.fetchUser });
  assert(f.calls.length === 3 && f.calls[2].id === "c", "id change fetches c");
  f.calls[2].resolve({ id: "c", name: "Cy" });
  await settle();
  f.calls[1].resolve({ id: "b", name: "Bo (late)" });
  await settle();
  const r3 = inst.render({ id: "c", fetchUser: f.fetchUser });
  assert(show(r3) === show({ status: "done", value: { id: "c", name: "Cy" } }), `a late response for b overwrote c: ${show(r3)}`);

  const g = makeFetcher();
  inst.render({ id: "c", fetchUser: g.fetchUser });
  assert(g.calls.length === 1 && g.calls[0].id === "c" && f.calls.length === 3, "a new fetchUser refetches");
  const r4 = inst.render({ id: "c", fetchUser: g.fetchUser });
  assert(r4.status === "loading", `loading again after a new fetchUser: ${show(r4)}`);
  g.calls[0].reject(new Error("boom"));
  await settle();
  const r5 = inst.render({ id: "c", fetchUser: g.fetchUser });
  assert(show(r5) === show({ status: "error", message: "boom" }), `rejection: ${show(r5)}`);

  inst.render({ id: "d", fetchUser: g.fetchUser });
  inst.render({ id: "e", fetchUser: g.fetchUser });
  g.calls[1].reject(new Error("old failure"));
  await settle();
  const r6 = inst.render({ id: "e", fetchUser: g.fetchUser });
  assert(r6.status === "loading", `a stale rejection must not change the state: ${show(r6)}`);
  g.calls[2].reject("plain reason");
  await settle();
  const r7 = inst.render({ id: "e", fetchUser: g.fetchUser });
  assert(show(r7) === show({ status: "error", message: "plain reason" }), `non-Error rejection: ${show(r7)}`);

  const h = makeFetcher();
  const other = mount(useUser);
  other.render({ id: "z", fetchUser: h.fetchUser });
  other.unmount();
  h.calls[0].resolve({ id: "z", name: "Zed" });
  await settle();
  const slots = other.slots.map((s) => show(s.value));
  assert(!slots.some((v) => v !== undefined && v.includes("Zed")), `a response after unmount changed the state: ${slots}`);
}

main().catch((e: unknown) => {
  setTimeout(() => {
    throw e;
  });
});
