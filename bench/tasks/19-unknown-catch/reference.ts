export type ParseResult = { ok: true; value: unknown } | { ok: false; error: string };

export function tryParse(text: string, reviver?: (key: string, value: unknown) => unknown): ParseResult {
  try {
    return { ok: true, value: JSON.parse(text, reviver) };
  } catch (e) {
    return { ok: false, error: e instanceof Error ? e.message : String(e) };
  }
}
