export function wrapText(text: string, width: number): string[] {
  throw new Error("not implemented");
}
