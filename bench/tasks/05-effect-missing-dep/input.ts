import { useEffect } from "./mini-react";

export interface TitleProps {
  user: string;
  count: number;
  setTitle: (title: string) => void;
}

export function useDocumentTitle({ user, count, setTitle }: TitleProps): void {
  useEffect(() => {
    setTitle(`${count} unread - ${user}`);
  }, []);
}
