export function pick(obj: any, keys: string[]): any {
  const out: any = {};
  for (const key of keys) {
    out[key] = obj[key];
  }
  return out;
}
