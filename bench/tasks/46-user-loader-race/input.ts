import { useEffect, useState } from "./mini-react";

export interface User {
  id: string;
  name: string;
}

export type LoadState<T> =
  | { status: "loading" }
  | { status: "done"; value: T }
  | { status: "error"; message: string };

export interface UserProps {
  id: string;
  fetchUser: (id: string) => Promise<User>;
}

export function useUser({ id, fetchUser }: UserProps): LoadState<User> {
  const [state, setState] = useState<LoadState<User>>({ status: "loading" });
  useEffect(() => {
    setState({ status: "loading" });
    fetchUser(id).then((user) => setState({ status: "done", value: user }));
  }, [id]);
  return state;
}
