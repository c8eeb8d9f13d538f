import { useCallback, useState } from "./mini-react";

export function useToggle(initial: boolean): [boolean, () => void] {
  const [on, setOn] = useState(initial);
  const toggle = useCallback((): void => setOn((prev) => !prev), []);
  return [on, toggle];
}
