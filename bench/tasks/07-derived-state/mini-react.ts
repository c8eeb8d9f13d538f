// A minimal hooks runtime (not React) so hook tasks run under plain node with no packages.
// Semantics that matter for the tasks match React: effects run after render, only when a
// dependency changed (Object.is), memo/callback values are reused while deps are equal, and a
// state setter or dispatch does not re-render by itself (the check calls render again, like a
// parent would), and unmount() runs the effects' cleanups.
type Deps = readonly unknown[] | undefined;

interface Slot {
  value?: unknown;
  deps?: Deps;
  cleanup?: (() => void) | void;
  reducer?: unknown;
}

let current: Instance<any, any> | null = null;

function depsChanged(prev: Deps, next: Deps): boolean {
  if (prev === undefined || next === undefined) return true;
  if (prev.length !== next.length) return true;
  return prev.some((v, i) => !Object.is(v, next[i]));
}

function slot(): Slot {
  if (current === null) throw new Error("hooks can only be called while rendering");
  const inst = current;
  const i = inst.index++;
  if (inst.slots[i] === undefined) inst.slots[i] = {};
  return inst.slots[i];
}

export class Instance<P, R> {
  slots: Slot[] = [];
  index = 0;
  renders = 0;
  unmounted = false;
  private effects: Array<() => void> = [];

  constructor(private readonly component: (props: P) => R) {}

  render(props: P): R {
    if (this.unmounted) throw new Error("render after unmount");
    current = this;
    this.index = 0;
    this.renders++;
    let out: R;
    try {
      out = this.component(props);
    } finally {
      current = null;
    }
    const effects = this.effects;
    this.effects = [];
    for (const run of effects) run();
    return out;
  }

  queueEffect(run: () => void): void {
    this.effects.push(run);
  }

  unmount(): void {
    this.unmounted = true;
    for (const s of this.slots) {
      if (typeof s.cleanup === "function") s.cleanup();
      s.cleanup = undefined;
    }
  }
}

export function mount<P, R>(component: (props: P) => R): Instance<P, R> {
  return new Instance(component);
}

export function useState<T>(initial: T | (() => T)): [T, (next: T | ((prev: T) => T)) => void] {
  const s = slot();
  if (!("value" in s)) {
    s.value = typeof initial === "function" ? (initial as () => T)() : initial;
  }
  const setter = (s.deps as unknown as ((next: T | ((prev: T) => T)) => void) | undefined) ??
    ((next: T | ((prev: T) => T)) => {
      s.value = typeof next === "function" ? (next as (prev: T) => T)(s.value as T) : next;
    });
  // The setter is stable across renders, as in React.
  s.deps = setter as unknown as Deps;
  return [s.value as T, setter];
}

export function useRef<T>(initial: T): { current: T } {
  const s = slot();
  if (!("value" in s)) s.value = { current: initial };
  return s.value as { current: T };
}

export function useMemo<T>(compute: () => T, deps: readonly unknown[]): T {
  const s = slot();
  if (!("value" in s) || depsChanged(s.deps, deps)) {
    s.value = compute();
    s.deps = deps;
  }
  return s.value as T;
}

export function useCallback<F extends (...args: never[]) => unknown>(fn: F, deps: readonly unknown[]): F {
  return useMemo(() => fn, deps);
}

export function useEffect(effect: () => void | (() => void), deps?: readonly unknown[]): void {
  const s = slot();
  const inst = current!;
  const first = !("value" in s);
  if (first || depsChanged(s.deps, deps)) {
    s.value = true;
    s.deps = deps;
    inst.queueEffect(() => {
      if (typeof s.cleanup === "function") s.cleanup();
      s.cleanup = effect();
    });
  }
}

export function useReducer<S, A>(reducer: (state: S, action: A) => S, initial: S): [S, (action: A) => void] {
  const s = slot();
  // The latest render's reducer handles later dispatches, as in React.
  s.reducer = reducer;
  if (!("value" in s)) {
    s.value = initial;
    const dispatch = (action: A): void => {
      s.value = (s.reducer as (state: S, action: A) => S)(s.value as S, action);
    };
    // The dispatch function is stable across renders, as in React.
    s.deps = dispatch as unknown as Deps;
  }
  return [s.value as S, s.deps as unknown as (action: A) => void];
}
