import { parseDuration } from "./input";

function assert(cond: boolean, msg: string): void {
  if (!cond) throw new Error(msg);
}
const good: Array<[string, number]> = [
  ["1h30m", 5400],
  ["90m", 5400],
  ["45s", 45],
  ["0s", 0],
  ["2h", 7200],
  [" 2h ", 7200],
  ["1h 2m 3s", 3723],
  ["1h  3s", 3603],
  ["10m5s", 605],
  ["100h", 360000],
  ["007s", 7],
  ["1h2m3s", 3723],
];
for (const [text, want] of good) {
  const got = parseDuration(text);
  assert(got === want, `parseDuration(${JSON.stringify(text)}) = ${got}, want ${want}`);
}
const bad = ["", "   ", "10", "1.5h", "1H", "1 h", "-5s", "1m1h", "1h1h", "h", "5s later", "1d", "1h30", "s5", "1h,2m"];
for (const text of bad) {
  let threw = false;
  try {
    parseDuration(text);
  } catch (e) {
    threw = e instanceof Error;
  }
  assert(threw, `parseDuration(${JSON.stringify(text)}) must throw`);
}
