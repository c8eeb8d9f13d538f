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
    // Cleared by the cleanup, so an outdated response can never land.
    let current = true;
    setState({ status: "loading" });
    fetchUser(id).then(
      (user) => {
        if (current) setState({ status: "done", value: user });
      },
      (reason: unknown) => {
        if (current) {
          setState({ status: "error", message: reason instanceof Error ? reason.message : String(reason) });
        }
      },
    );
    return () => {
      current = false;
    };
  }, [id, fetchUser]);
  return state;
}
