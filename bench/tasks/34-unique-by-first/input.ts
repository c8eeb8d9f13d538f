export function uniqueBy<T, K>(items: readonly T[], key: (item: T) => K): T[] {
  const byKey = new Map<K, T>();
  for (const item of items) {
    byKey.set(key(item), item);
  }
  return [...byKey.values()];
}
