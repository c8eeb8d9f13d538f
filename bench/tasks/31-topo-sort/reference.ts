export function topoSort(deps: Readonly<Record<string, readonly string[]>>): string[] {
  const waitingOn = new Map<string, Set<string>>();
  const dependents = new Map<string, string[]>();
  const node = (name: string): Set<string> => {
    let set = waitingOn.get(name);
    if (set === undefined) {
      set = new Set();
      waitingOn.set(name, set);
      dependents.set(name, []);
    }
    return set;
  };
  for (const [name, list] of Object.entries(deps)) {
    const set = node(name);
    for (const dep of list) {
      node(dep);
      if (!set.has(dep)) {
        set.add(dep);
        dependents.get(dep)!.push(name);
      }
    }
  }
  const ready = [...waitingOn].filter(([, set]) => set.size === 0).map(([name]) => name);
  const out: string[] = [];
  while (ready.length > 0) {
    ready.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const next = ready.shift()!;
    out.push(next);
    for (const user of dependents.get(next)!) {
      const set = waitingOn.get(user)!;
      set.delete(next);
      if (set.size === 0) ready.push(user);
    }
  }
  if (out.length !== waitingOn.size) {
    const stuck = [...waitingOn].filter(([, set]) => set.size > 0).map(([name]) => name);
    throw new Error(`dependency cycle among: ${stuck.sort().join(", ")}`);
  }
  return out;
}
