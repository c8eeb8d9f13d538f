import { compareVersions } from "./input";

function assert(cond: boolean, msg: string): void {
  if (!cond) throw new Error(msg);
}
const ascending = [
  "0.0.0",
  "0.0.1",
  "0.1.0",
  "0.9.9",
  "0.10.0",
  "1.0.0-0",
  "1.0.0-1",
  "1.0.0-2",
  "1.0.0-10",
  "1.0.0-A",
  "1.0.0-a",
  "1.0.0-alpha",
  "1.0.0-alpha.1",
  "1.0.0-alpha.beta",
  "1.0.0-beta",
  "1.0.0-beta.2",
  "1.0.0-beta.11",
  "1.0.0-rc.1",
  "1.0.0-rc.1.x",
  "1.0.0",
  "1.0.1",
  "1.2.9",
  "1.2.10",
  "1.10.0",
  "2.0.0-x-y",
  "2.0.0",
  "10.0.0",
];
for (let i = 0; i < ascending.length; i++) {
  for (let j = 0; j < ascending.length; j++) {
    const want = i < j ? -1 : i > j ? 1 : 0;
    const got = compareVersions(ascending[i], ascending[j]);
    assert(got === want, `compareVersions(${ascending[i]}, ${ascending[j]}) = ${got}, want ${want}`);
  }
}
const equal: Array<[string, string]> = [
  ["1.0.0+a", "1.0.0+b"],
  ["1.0.0", "1.0.0+build.5"],
  ["1.0.0-rc.1+x", "1.0.0-rc.1+y-z.2"],
];
for (const [a, b] of equal) {
  assert(compareVersions(a, b) === 0, `${a} and ${b} must be equal`);
}
assert(compareVersions("1.0.0-beta+exp", "1.0.0") === -1, "build metadata does not remove the prerelease");
const invalid = ["", "1.2", "1.2.3.4", "01.2.3", "1.02.3", "v1.2.3", "1.2.3-", "1.2.3-a..b", "1.2.3+", " 1.2.3", "1.2.3 ", "1.2.3-a_b", "1.-2.3", "a.b.c"];
for (const text of invalid) {
  for (const [x, y] of [[text, "1.0.0"], ["1.0.0", text]]) {
    let threw = false;
    try {
      compareVersions(x, y);
    } catch (e) {
      threw = e instanceof Error;
    }
    assert(threw, `compareVersions(${JSON.stringify(x)}, ${JSON.stringify(y)}) must throw`);
  }
}
