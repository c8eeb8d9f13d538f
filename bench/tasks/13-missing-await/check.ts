import { loadAll } from "./input";

function assert(cond: boolean, msg: string): void {
  if (!cond) throw new Error(msg);
}
async function main(): Promise<void> {
  const load = async (id: number): Promise<number> => {
    await new Promise<void>((resolve) => setTimeout(resolve, (5 - id) * 5));
    return id * 10;
  };
  const out = await loadAll([1, 2, 3], load);
  assert(out.join() === "10,20,30", `loadAll returned ${JSON.stringify(out)}`);
  assert((await loadAll([], load)).length === 0, "loadAll([]) should be []");
}
main().catch((err: unknown) => {
  setTimeout(() => {
    throw err;
  });
});
