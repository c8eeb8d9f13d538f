import { useEventHandler } from "./input";
import { mount } from "./mini-react";

function assert(cond: boolean, msg: string): void {
  if (!cond) throw new Error(msg);
}
interface Props {
  prefix: string;
  log: string[];
}
const inst = mount(({ prefix, log }: Props) => {
  const onSubmit: (text: string, times: number) => number = useEventHandler((text: string, times: number) => {
    log.push(`${prefix}:${text.repeat(times)}`);
    return log.length;
  });
  return onSubmit;
});
const log: string[] = [];
const first = inst.render({ prefix: "a", log });
assert(first("x", 2) === 1 && log[0] === "a:xx", `first render's handler: ${log}`);
const second = inst.render({ prefix: "b", log });
assert(second === first, "the returned function must be the same on every render");
assert(first("y", 1) === 2 && log[1] === "b:y", `a call after the second render uses the newest handler: ${log}`);
const otherLog: string[] = [];
inst.render({ prefix: "c", log: otherLog });
assert(second("z", 3) === 1 && otherLog[0] === "c:zzz" && log.length === 2, "newest handler with its own closure");
const third = inst.render({ prefix: "d", log: otherLog });
assert(third === first, "still the same function after several renders");
assert(third("", 0) === 2 && otherLog[1] === "d:", `arguments pass through: ${otherLog}`);

const plain = mount((h: () => string) => useEventHandler(h));
const f = plain.render(() => "one");
assert(f() === "one", "returns the handler's result");
plain.render(() => "two");
assert(f() === "two", "newest handler after a re-render");
const g = mount((h: () => string) => useEventHandler(h)).render(() => "other");
assert(g !== f && g() === "other" && f() === "two", "each instance has its own wrapper");
