export function parseQuery(query: string): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const part of query.split("&")) {
    const [key, value] = part.split("=");
    out[key] = value;
  }
  return out;
}
