import { useRef } from "./mini-react";

export function usePrevious<T>(value: T): T | undefined {
  const ref = useRef<T | undefined>(undefined);
  ref.current = value;
  return ref.current;
}
