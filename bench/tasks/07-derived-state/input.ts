import { useEffect, useState } from "./mini-react";

export interface NameProps {
  first: string;
  last: string;
}

export function useFullName({ first, last }: NameProps): string {
  const [fullName, setFullName] = useState(`${first} ${last}`);
  useEffect(() => {
    setFullName(`${first} ${last}`);
  }, [first, last]);
  return fullName;
}
