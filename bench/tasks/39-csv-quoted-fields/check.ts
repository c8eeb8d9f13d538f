import { parseCsvLine } from "./input";

function assert(cond: boolean, msg: string): void {
  if (!cond) throw new Error(msg);
}
const show = (v: unknown): string => JSON.stringify(v);
const cases: Array<[string, string[]]> = [
  ["", [""]],
  ["a", ["a"]],
  ["a,b,,c", ["a", "b", "", "c"]],
  ["a,", ["a", ""]],
  [",", ["", ""]],
  ['"x,y",z', ["x,y", "z"]],
  ['""', [""]],
  ['"",""', ["", ""]],
  ['a,"b ""quoted"" c",d', ["a", 'b "quoted" c', "d"]],
  ['""""', ['"']],
  ['"a,b,c"', ["a,b,c"]],
  ['"ends with comma,"', ["ends with comma,"]],
  ['a"b,c', ['a"b', "c"]],
  [' "a",b', [' "a"', "b"]],
  ["  spaced  , kept ", ["  spaced  ", " kept "]],
  ['1,"two",3,"four, five",', ["1", "two", "3", "four, five", ""]],
  ['"line\nbreak",x', ["line\nbreak", "x"]],
];
for (const [line, want] of cases) {
  const got = parseCsvLine(line);
  assert(show(got) === show(want), `parseCsvLine(${show(line)}) = ${show(got)}, want ${show(want)}`);
}
for (const bad of ['"abc', '"abc"def,x', 'x,"unterminated', '"a""', '"a" ,b', 'a,"b"c']) {
  let threw = false;
  try {
    parseCsvLine(bad);
  } catch (e) {
    threw = e instanceof Error;
  }
  assert(threw, `parseCsvLine(${show(bad)}) must throw`);
}
