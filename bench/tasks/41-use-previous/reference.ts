import { useEffect, useRef } from "./mini-react";

export function usePrevious<T>(value: T): T | undefined {
  const ref = useRef<T | undefined>(undefined);
  const previous = ref.current;
  // After every render, so the next render sees this one's value.
  useEffect(() => {
    ref.current = value;
  });
  return previous;
}
