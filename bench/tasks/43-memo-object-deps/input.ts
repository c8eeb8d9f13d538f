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
  return useMemo(
    () => points.map((p) => ({ x: p.x, y: p.y * options.scale + options.offset })),
    [points, options],
  );
}
