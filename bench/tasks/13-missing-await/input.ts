export async function loadAll(ids: number[], load: (id: number) => Promise<number>): Promise<number[]> {
  const results: number[] = [];
  for (const id of ids) {
    results.push(load(id));
  }
  return results;
}
