import { useEffect } from "./mini-react";

export interface IntervalTimer {
  setInterval(fn: () => void, ms: number): number;
  clearInterval(handle: number): void;
}

export function useInterval(callback: () => void, delay: number | null, timer: IntervalTimer): void {
  useEffect(() => {
    if (delay === null) return;
    timer.setInterval(callback, delay);
  }, [callback, delay]);
}
