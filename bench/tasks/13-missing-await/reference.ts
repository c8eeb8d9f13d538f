export async function loadAll(ids: number[], load: (id: number) => Promise<number>): Promise<number[]> {
  return Promise.all(ids.map((id) => load(id)));
}
