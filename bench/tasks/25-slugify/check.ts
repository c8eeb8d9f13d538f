import { slugify } from "./input";

function assert(cond: boolean, msg: string): void {
  if (!cond) throw new Error(msg);
}
const cases: Array<[string, string]> = [
  ["Hello, World!", "hello-world"],
  ["  Crème Brûlée  ", "creme-brulee"],
  ["C++ & Rust 2024", "c-rust-2024"],
  ["--Already--slugged--", "already-slugged"],
  ["MiXeD123Case", "mixed123case"],
  ["a_b.c/d", "a-b-c-d"],
  ["ÀÉÎõü", "aeiou"],
  ["Straße", "stra-e"],
  ["日本語", ""],
  ["Tokyo 日本 trip", "tokyo-trip"],
  ["", ""],
  ["   ", ""],
  ["x", "x"],
  ["Ünïcödé   Tëst\tTab\nLine", "unicode-test-tab-line"],
];
for (const [title, want] of cases) {
  const got = slugify(title);
  assert(got === want, `slugify(${JSON.stringify(title)}) = ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
}
