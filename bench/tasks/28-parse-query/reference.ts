function decode(text: string): string {
  return decodeURIComponent(text.replace(/\+/g, " "));
}

export function parseQuery(query: string): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  const body = query.startsWith("?") ? query.slice(1) : query;
  for (const piece of body.split("&")) {
    if (piece === "") continue;
    const eq = piece.indexOf("=");
    const key = decode(eq === -1 ? piece : piece.slice(0, eq));
    const value = eq === -1 ? "" : decode(piece.slice(eq + 1));
    if (key === "") continue;
    if (!Object.prototype.hasOwnProperty.call(out, key)) {
      out[key] = value;
    } else {
      const prev = out[key];
      out[key] = Array.isArray(prev) ? [...prev, value] : [prev, value];
    }
  }
  return out;
}
