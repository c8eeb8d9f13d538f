export function countBy(items, key) {
  const counts = {};
  for (const item of items) {
    const k = key(item);
    counts[k] = counts[k] + 1;
  }
  return counts;
}
