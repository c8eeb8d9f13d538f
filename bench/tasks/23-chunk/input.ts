export function chunk<T>(items: readonly T[], size: number): T[][] {
  throw new Error("not implemented");
}
