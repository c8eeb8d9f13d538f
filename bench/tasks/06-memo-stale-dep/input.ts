import { useMemo } from "./mini-react";

export interface Row {
  name: string;
  size: number;
}

export interface RowsProps {
  rows: Row[];
  query: string;
  sortBy: "name" | "size";
  onCompute: () => void;
}

export function useVisibleRows({ rows, query, sortBy, onCompute }: RowsProps): Row[] {
  return useMemo(() => {
    onCompute();
    const q = query.toLowerCase();
    const out = rows.filter((r) => r.name.toLowerCase().includes(q));
    return out.sort((a, b) => (sortBy === "name" ? a.name.localeCompare(b.name) : a.size - b.size));
  }, [rows, query]);
}
