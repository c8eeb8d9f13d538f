export function compressRuns(text: string): string {
  return text;
}

export function expandRuns(encoded: string): string {
  return encoded;
}
