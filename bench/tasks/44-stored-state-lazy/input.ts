import { useState } from "./mini-react";

export interface KeyValueStore {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

function parse(text: string | null, fallback: number): number {
  return text === null ? fallback : Number(text);
}

export function useStoredNumber(
  key: string,
  fallback: number,
  storage: KeyValueStore,
): [number, (next: number) => void] {
  const [value, setValue] = useState(parse(storage.getItem(key), fallback));
  const update = (next: number): void => {
    setValue(next);
  };
  return [value, update];
}
