import { totalCents } from "./input";

function assert(cond: boolean, msg: string): void {
  if (!cond) throw new Error(msg);
}
const cases: Array<[string[], number]> = [
  [[], 0],
  [["0.29"], 29],
  [["0.1", "0.2"], 30],
  [["19.99", "0.01"], 2000],
  [["12.34"], 1234],
  [["0.5"], 50],
  [["7"], 700],
  [["007.00"], 700],
  [["-3.10"], -310],
  [["-0.5", "1"], 50],
  [["4.35", "1.15"], 550],
  [["1.00", "2.9"], 390],
  [["1234567.89", "0.11"], 123456800],
  [Array.from({ length: 10000 }, () => "0.01"), 10000],
  [Array.from({ length: 333 }, () => "0.57"), 18981],
];
for (const [prices, want] of cases) {
  const got = totalCents(prices);
  const shown = prices.length > 4 ? `${prices.length} prices` : JSON.stringify(prices);
  assert(got === want, `totalCents(${shown}) = ${got}, want ${want}`);
}
for (const bad of ["", "1.", ".5", "1.234", "1,50", "+1", " 1", "1 ", "abc", "1e3", "-", "--1"]) {
  let message = "";
  try {
    totalCents(["1.00", bad]);
  } catch (e) {
    message = e instanceof Error ? e.message : "";
  }
  assert(message !== "", `totalCents(["1.00", ${JSON.stringify(bad)}]) must throw an Error`);
  if (bad.trim() !== "") {
    assert(message.includes(bad.trim()), `the error must name the bad price ${JSON.stringify(bad)}: ${message}`);
  }
}
