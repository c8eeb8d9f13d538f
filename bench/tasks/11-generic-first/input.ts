export function first(items: any[]): any {
  return items[0];
}

export function last(items: any[]): any {
  return items[items.length - 1];
}
