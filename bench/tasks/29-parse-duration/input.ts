const UNIT_SECONDS: Record<string, number> = { h: 3600, m: 60, s: 1 };

export function parseDuration(text: string): number {
  let total = 0;
  for (const match of text.matchAll(/(\d+)([hms])/g)) {
    total += Number(match[1]) * UNIT_SECONDS[match[2]];
  }
  return total;
}
