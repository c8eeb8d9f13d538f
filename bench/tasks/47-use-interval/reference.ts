import { useEffect, useRef } from "./mini-react";

export interface IntervalTimer {
  setInterval(fn: () => void, ms: number): number;
  clearInterval(handle: number): void;
}

export function useInterval(callback: () => void, delay: number | null, timer: IntervalTimer): void {
  const latest = useRef(callback);
  useEffect(() => {
    latest.current = callback;
  });
  useEffect(() => {
    if (delay === null) return;
    const handle = timer.setInterval(() => latest.current(), delay);
    return () => timer.clearInterval(handle);
  }, [delay, timer]);
}
