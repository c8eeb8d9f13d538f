export interface Page<T> {
  items: T[];
  totalPages: number;
  hasNext: boolean;
}

export function paginate<T>(items: T[], page: number, pageSize: number): Page<T> {
  const start = page * pageSize;
  const totalPages = Math.floor(items.length / pageSize);
  return {
    items: items.slice(start, start + pageSize),
    totalPages,
    hasNext: page <= totalPages,
  };
}
