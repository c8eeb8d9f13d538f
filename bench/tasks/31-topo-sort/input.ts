export function topoSort(deps: Readonly<Record<string, readonly string[]>>): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  const visit = (node: string): void => {
    if (seen.has(node)) return;
    seen.add(node);
    for (const dep of deps[node] ?? []) visit(dep);
    out.push(node);
  };
  for (const node of Object.keys(deps)) visit(node);
  return out;
}
