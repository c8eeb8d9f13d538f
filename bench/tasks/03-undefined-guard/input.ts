export function firstWord(text: string | undefined): string {
  return text.trim().split(/\s+/)[0];
}
