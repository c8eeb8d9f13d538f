export function parseCsvLine(line: string): string[] {
  return line
    .split(",")
    .map((field) => (field.startsWith('"') && field.endsWith('"') ? field.slice(1, -1) : field));
}
