const DURATION = /^\s*(?:(\d+)h)?\s*(?:(\d+)m)?\s*(?:(\d+)s)?\s*$/;

export function parseDuration(text: string): number {
  const match = DURATION.exec(text);
  if (match === null || (match[1] === undefined && match[2] === undefined && match[3] === undefined)) {
    throw new Error(`not a duration: ${JSON.stringify(text)} (expected e.g. "1h 30m 5s")`);
  }
  const [h, m, s] = [match[1], match[2], match[3]].map((v) => (v === undefined ? 0 : Number(v)));
  return h * 3600 + m * 60 + s;
}
