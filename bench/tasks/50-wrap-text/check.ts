import { wrapText } from "./input";

function assert(cond: boolean, msg: string): void {
  if (!cond) throw new Error(msg);
}
const show = (v: unknown): string => JSON.stringify(v);
const cases: Array<[string, number, string[]]> = [
  ["", 10, []],
  ["  \n\t ", 10, []],
  ["hello", 10, ["hello"]],
  ["hello", 5, ["hello"]],
  ["the quick brown fox", 10, ["the quick", "brown fox"]],
  ["the quick brown fox", 9, ["the quick", "brown fox"]],
  ["the quick brown fox", 8, ["the", "quick", "brown", "fox"]],
  ["a b c d e", 3, ["a b", "c d", "e"]],
  ["  lots   of\n\nspace\there  ", 8, ["lots of", "space", "here"]],
  ["abcdefg h", 3, ["abc", "def", "g h"]],
  ["abcdefgh ij", 3, ["abc", "def", "gh", "ij"]],
  ["x abcdef y", 3, ["x", "abc", "def", "y"]],
  ["abcdef", 3, ["abc", "def"]],
  ["ab abcdef", 4, ["ab", "abcd", "ef"]],
  ["one two", 1, ["o", "n", "e", "t", "w", "o"]],
  ["a bb ccc dddd", 4, ["a bb", "ccc", "dddd"]],
];
for (const [text, width, want] of cases) {
  const got = wrapText(text, width);
  assert(show(got) === show(want), `wrapText(${show(text)}, ${width}) = ${show(got)}, want ${show(want)}`);
}
const long = "Lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor";
for (const width of [11, 12, 20, 33]) {
  const lines = wrapText(long, width);
  assert(lines.every((l) => l.length <= width && l === l.trim() && l !== ""), `width ${width}: ${show(lines)}`);
  assert(lines.join(" ") === long, `width ${width} lost or changed words: ${show(lines)}`);
  for (let i = 1; i < lines.length; i++) {
    const next = lines[i].split(" ")[0];
    assert(lines[i - 1].length + 1 + next.length > width, `width ${width}: "${next}" fits on the line before (${show(lines)})`);
  }
}
for (const bad of [0, -1, 2.5, NaN]) {
  let threw = false;
  try {
    wrapText("a b", bad);
  } catch (e) {
    threw = e instanceof RangeError;
  }
  assert(threw, `width ${bad} must throw a RangeError`);
}
