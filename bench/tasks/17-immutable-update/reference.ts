export interface Item {
  id: string;
  label: string;
  qty: number;
}

export function updateItem(list: Item[], id: string, patch: Partial<Omit<Item, "id">>): Item[] {
  if (!list.some((i) => i.id === id)) return list;
  return list.map((i) => (i.id === id ? { ...i, ...patch } : i));
}
