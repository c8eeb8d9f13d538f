import { useCallback, useState } from "./mini-react";

export interface KeyValueStore {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

function parse(text: string | null, fallback: number): number {
  if (text === null || text.trim() === "") return fallback;
  const n = Number(text);
  return Number.isFinite(n) ? n : fallback;
}

export function useStoredNumber(
  key: string,
  fallback: number,
  storage: KeyValueStore,
): [number, (next: number) => void] {
  const [value, setValue] = useState(() => parse(storage.getItem(key), fallback));
  const update = useCallback(
    (next: number): void => {
      setValue(next);
      storage.setItem(key, String(next));
    },
    [key, storage],
  );
  return [value, update];
}
