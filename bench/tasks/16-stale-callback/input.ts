import { useCallback } from "./mini-react";

export interface CounterProps {
  value: number;
  step: number;
  onChange: (next: number) => void;
}

export function useCounterButton({ value, step, onChange }: CounterProps): () => void {
  return useCallback(() => {
    onChange(value + step);
  }, [value]);
}
