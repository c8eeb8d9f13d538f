import { parseQuery } from "./input";

function assert(cond: boolean, msg: string): void {
  if (!cond) throw new Error(msg);
}
function same(got: Record<string, string | string[]>, want: Record<string, string | string[]>): boolean {
  const gk = Object.keys(got);
  const wk = Object.keys(want);
  if (gk.length !== wk.length) return false;
  return wk.every(
    (k) => Object.prototype.hasOwnProperty.call(got, k) && JSON.stringify(got[k]) === JSON.stringify(want[k]),
  );
}
const cases: Array<[string, Record<string, string | string[]>]> = [
  ["", {}],
  ["?", {}],
  ["a=1", { a: "1" }],
  ["?a=1&b=2", { a: "1", b: "2" }],
  ["a=1&&b=2&", { a: "1", b: "2" }],
  ["x=a=b", { x: "a=b" }],
  ["flag", { flag: "" }],
  ["flag=", { flag: "" }],
  ["q=hello+world%21", { q: "hello world!" }],
  ["sum=1%2B1", { sum: "1+1" }],
  ["my+key=v", { "my key": "v" }],
  ["%C3%A9t%C3%A9=summer", { "été": "summer" }],
  ["=x&a=1", { a: "1" }],
  ["tag=a&tag=b&other=z&tag=c", { tag: ["a", "b", "c"], other: "z" }],
  ["t=1&t=1", { t: ["1", "1"] }],
  ["e&e=", { e: ["", ""] }],
  ["constructor=1&toString=2&hasOwnProperty=3", { constructor: "1", toString: "2", hasOwnProperty: "3" }],
  ["?redirect=%2Fhome%3Fa%3D1%26b%3D2", { redirect: "/home?a=1&b=2" }],
];
for (const [query, want] of cases) {
  const got = parseQuery(query);
  assert(same(got, want), `parseQuery(${JSON.stringify(query)}) = ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
}
