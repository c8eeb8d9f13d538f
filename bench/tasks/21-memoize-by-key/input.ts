export function memoize<A, R>(fn: (arg: A) => R): (arg: A) => R {
  let cached: R | undefined;
  return (arg: A): R => {
    if (cached === undefined) cached = fn(arg);
    return cached;
  };
}
