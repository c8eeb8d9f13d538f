const VERSION =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$/;

interface Version {
  core: [number, number, number];
  pre: string[];
}

function parse(text: string): Version {
  const m = VERSION.exec(text);
  if (m === null) throw new Error(`not a semantic version: ${JSON.stringify(text)}`);
  return {
    core: [Number(m[1]), Number(m[2]), Number(m[3])],
    pre: m[4] === undefined ? [] : m[4].split("."),
  };
}

function sign(n: number): -1 | 0 | 1 {
  return n < 0 ? -1 : n > 0 ? 1 : 0;
}

function compareIdentifiers(x: string, y: string): -1 | 0 | 1 {
  const xNum = /^\d+$/.test(x);
  const yNum = /^\d+$/.test(y);
  if (xNum && yNum) return sign(Number(x) - Number(y));
  if (xNum) return -1;
  if (yNum) return 1;
  return x < y ? -1 : x > y ? 1 : 0;
}

export function compareVersions(a: string, b: string): -1 | 0 | 1 {
  const va = parse(a);
  const vb = parse(b);
  for (let i = 0; i < 3; i++) {
    const c = sign(va.core[i] - vb.core[i]);
    if (c !== 0) return c;
  }
  if (va.pre.length === 0 || vb.pre.length === 0) {
    return sign(vb.pre.length - va.pre.length);
  }
  for (let i = 0; i < Math.min(va.pre.length, vb.pre.length); i++) {
    const c = compareIdentifiers(va.pre[i], vb.pre[i]);
    if (c !== 0) return c;
  }
  return sign(va.pre.length - vb.pre.length);
}
