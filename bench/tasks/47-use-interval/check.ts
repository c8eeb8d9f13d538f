import { IntervalTimer, useInterval } from "./input";
import { mount } from "./mini-react";

function assert(cond: boolean, msg: string): void {
  if (!cond) throw new Error(msg);
}
class FakeTimer implements IntervalTimer {
  private next = 1;
  created = 0;
  active = new Map<number, { fn: () => void; ms: number }>();
  setInterval(fn: () => void, ms: number): number {
    this.created++;
    const handle = this.next++;
    this.active.set(handle, { fn, ms });
    return handle;
  }
  clearInterval(handle: number): void {
    this.active.delete(handle);
  }
  delays(): string {
    return [...this.active.values()].map((a) => a.ms).join();
  }
  tick(): void {
    for (const { fn } of [...this.active.values()]) fn();
  }
}
interface Props {
  label: string;
  delay: number | null;
}
const timer = new FakeTimer();
const log: string[] = [];
const inst = mount(({ label, delay }: Props) => {
  useInterval(() => log.push(label), delay, timer);
  return label;
});

inst.render({ label: "a", delay: 100 });
assert(timer.delays() === "100", `one interval at 100 ms, active: [${timer.delays()}]`);
timer.tick();
assert(log.join() === "a", `tick: ${log}`);
inst.render({ label: "b", delay: 100 });
inst.render({ label: "c", delay: 100 });
assert(timer.created === 1 && timer.delays() === "100", `a new callback must not restart the interval (created ${timer.created}, active [${timer.delays()}])`);
timer.tick();
assert(log.join() === "a,c", `ticks call the latest callback: ${log}`);
inst.render({ label: "d", delay: 50 });
assert(timer.delays() === "50" && timer.created === 2, `delay change: active [${timer.delays()}], created ${timer.created}`);
timer.tick();
assert(log.join() === "a,c,d", `after the delay change: ${log}`);
inst.render({ label: "e", delay: null });
assert(timer.active.size === 0, `null delay: active [${timer.delays()}]`);
timer.tick();
assert(log.join() === "a,c,d", "no ticks while paused");
inst.render({ label: "f", delay: null });
assert(timer.created === 2, "still paused");
inst.render({ label: "g", delay: 20 });
assert(timer.delays() === "20" && timer.created === 3, `resumed: [${timer.delays()}]`);
timer.tick();
assert(log.join() === "a,c,d,g", `after resuming: ${log}`);
inst.unmount();
assert(timer.active.size === 0, `unmount must clear the interval: [${timer.delays()}]`);

const t2 = new FakeTimer();
const paused = mount((delay: number | null) => useInterval(() => {}, delay, t2));
paused.render(null);
assert(t2.created === 0, "starting paused creates no interval");
paused.render(10);
paused.render(10);
assert(t2.created === 1 && t2.delays() === "10", "same delay again: no new interval");
