import { useState } from "./mini-react";

export function useToggle(initial: boolean): [boolean, () => void] {
  const [on, setOn] = useState(initial);
  const toggle = (): void => setOn(!on);
  return [on, toggle];
}
