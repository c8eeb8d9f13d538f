import { useCallback, useEffect, useRef } from "./mini-react";

export function useEventHandler<A extends unknown[], R>(handler: (...args: A) => R): (...args: A) => R {
  const latest = useRef(handler);
  useEffect(() => {
    latest.current = handler;
  });
  return useCallback((...args: A): R => latest.current(...args), []);
}
