export interface Item {
  id: string;
  label: string;
  qty: number;
}

export function updateItem(list: Item[], id: string, patch: Partial<Omit<Item, "id">>): Item[] {
  const item = list.find((i) => i.id === id);
  if (item) Object.assign(item, patch);
  return list;
}
