import { useMemo } from "./mini-react";

export interface Point {
  x: number;
  y: number;
}

export interface ChartOptions {
  scale: number;
  offset: number;
}

export interface ChartProps {
  points: readonly Point[];
  options: ChartOptions;
}

export function useChartPoints({ points, options }: ChartProps): Point[] {
  // The parent passes a fresh options object each render: depend on its numbers instead.
  const { scale, offset } = options;
  return useMemo(() => points.map((p) => ({ x: p.x, y: p.y * scale + offset })), [points, scale, offset]);
}
