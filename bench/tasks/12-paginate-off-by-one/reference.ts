export interface Page<T> {
  items: T[];
  totalPages: number;
  hasNext: boolean;
}

export function paginate<T>(items: T[], page: number, pageSize: number): Page<T> {
  const start = (page - 1) * pageSize;
  const totalPages = Math.max(1, Math.ceil(items.length / pageSize));
  return {
    items: items.slice(start, start + pageSize),
    totalPages,
    hasNext: page < totalPages,
  };
}
