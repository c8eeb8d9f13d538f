import { formatBytes } from "./input";

function assert(cond: boolean, msg: string): void {
  if (!cond) throw new Error(msg);
}
const KB = 1024;
const MB = KB * 1024;
const GB = MB * 1024;
const TB = GB * 1024;
const cases: Array<[number, string]> = [
  [0, "0 B"],
  [1, "1 B"],
  [999, "999 B"],
  [1023, "1023 B"],
  [1024, "1 KB"],
  [1536, "1.5 KB"],
  [1100, "1.1 KB"],
  [10 * KB + 51, "10 KB"],
  [MB - 1, "1024 KB"],
  [MB, "1 MB"],
  [2.75 * MB, "2.8 MB"],
  [1.2e9, "1.1 GB"],
  [GB, "1 GB"],
  [TB, "1 TB"],
  [3.5 * TB, "3.5 TB"],
  [TB * 1024, "1024 TB"],
  [-1, "-1 B"],
  [-1536, "-1.5 KB"],
  [-5 * GB, "-5 GB"],
];
for (const [n, want] of cases) {
  const got = formatBytes(n);
  assert(got === want, `formatBytes(${n}) = ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
}
for (const bad of [NaN, Infinity, -Infinity]) {
  let ok = false;
  try {
    formatBytes(bad);
  } catch (e) {
    ok = e instanceof RangeError;
  }
  assert(ok, `formatBytes(${bad}) must throw a RangeError`);
}
