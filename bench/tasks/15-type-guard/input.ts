export function isStringArray(value: unknown): boolean {
  return Array.isArray(value) && typeof value[0] === "string";
}
