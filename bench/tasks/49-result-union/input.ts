export interface Result<T, E> {
  ok: boolean;
  value?: T;
  error?: E;
}

export function ok<T>(value: T): Result<T, never> {
  return { ok: true, value };
}

export function err<E>(error: E): Result<never, E> {
  return { ok: false, error };
}

export function map<T, U, E>(r: Result<T, E>, f: (value: T) => U): Result<U, E> {
  return r.ok ? ok(f(r.value as T)) : (r as any);
}

export function andThen<T, U, E>(r: Result<T, E>, f: (value: T) => Result<U, E>): Result<U, E> {
  return r.ok ? f(r.value as T) : (r as any);
}

export function unwrapOr<T, E>(r: Result<T, E>, fallback: T): T {
  return r.value ?? fallback;
}

export function collect<T, E>(results: readonly Result<T, E>[]): Result<T[], E> {
  return ok(results.map((r) => r.value as T));
}
