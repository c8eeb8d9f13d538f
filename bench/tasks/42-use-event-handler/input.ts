import { useCallback } from "./mini-react";

export function useEventHandler<A extends unknown[], R>(handler: (...args: A) => R): (...args: A) => R {
  return useCallback(handler, []);
}
