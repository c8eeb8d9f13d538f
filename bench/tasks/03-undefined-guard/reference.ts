export function firstWord(text: string | undefined): string {
  if (text === undefined) return "";
  return text.trim().split(/\s+/)[0] ?? "";
}
