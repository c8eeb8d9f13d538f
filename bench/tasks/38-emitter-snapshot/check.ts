import { Emitter } from "./input";

function assert(cond: boolean, msg: string): void {
  if (!cond) throw new Error(msg);
}
type Events = { msg: [text: string]; move: [x: number, y: number]; done: [] };
const log: string[] = [];
const rec = (name: string) => (...args: unknown[]) => {
  log.push(`${name}(${args.join(",")})`);
};
function take(): string {
  const out = log.join(" ");
  log.length = 0;
  return out;
}

const em = new Emitter<Events>();
// @ts-expect-error the argument types follow the event map
em.emit("move", 1);
// @ts-expect-error unknown events are rejected
em.on("nope", () => {});
em.emit("done");
assert(take() === "", "emitting with no listeners does nothing");

const a = rec("a");
const b = rec("b");
const offA1 = em.on("move", a);
em.on("move", b);
const offA2 = em.on("move", a);
em.emit("move", 1, 2);
assert(take() === "a(1,2) b(1,2) a(1,2)", `every registration in order: ${log}`);
offA2();
em.emit("move", 3, 4);
assert(take() === "a(3,4) b(3,4)", `unsubscribe removes its own registration: ${log}`);
offA2();
em.emit("move", 5, 6);
assert(take() === "a(5,6) b(5,6)", `a second unsubscribe call does nothing: ${log}`);
offA1();
em.emit("move", 7, 8);
assert(take() === "b(7,8)", `after both unsubscribes: ${log}`);

const em2 = new Emitter<Events>();
const o = rec("o");
em2.once("msg", o);
em2.on("msg", rec("x"));
em2.once("msg", o);
em2.emit("msg", "hi");
assert(take() === "o(hi) x(hi) o(hi)", `once listeners must not make others skip: ${log}`);
em2.emit("msg", "again");
assert(take() === "x(again)", `once listeners run once: ${log}`);

const em3 = new Emitter<Events>();
const c = rec("c");
em3.on("msg", c);
em3.once("msg", c);
em3.off("msg", c);
em3.emit("msg", "z");
assert(take() === "", `off removes on and once registrations: ${log}`);
const offOnce = em3.once("msg", c);
offOnce();
em3.emit("msg", "z2");
assert(take() === "", `once returns a working unsubscribe: ${log}`);

const em4 = new Emitter<Events>();
let offLate: () => void = () => {};
em4.on("msg", (t) => {
  log.push(`first(${t})`);
  offLate();
  em4.on("msg", rec("added"));
});
offLate = em4.on("msg", rec("late"));
em4.on("msg", rec("last"));
em4.emit("msg", "1");
assert(take() === "first(1) last(1)", `removed during emit: skip it; added during emit: not called: ${log}`);
em4.emit("msg", "2");
assert(take() === "first(2) last(2) added(2)", `second emit: ${log}`);

const em5 = new Emitter<Events>();
const selfRemoving = (): void => {
  log.push("self");
  em5.off("done", selfRemoving);
};
em5.on("done", selfRemoving);
em5.on("done", rec("next"));
em5.emit("done");
assert(take() === "self next()", `a listener removing itself must not skip the next: ${log}`);
em5.emit("done");
assert(take() === "next()", `after self-removal: ${log}`);

const em6 = new Emitter<Events>();
let depth = 0;
em6.once("msg", (t) => {
  log.push(`once(${t})`);
  if (depth++ === 0) em6.emit("msg", "inner");
});
em6.emit("msg", "outer");
assert(take() === "once(outer)", `a once listener is removed before it runs: ${log}`);
