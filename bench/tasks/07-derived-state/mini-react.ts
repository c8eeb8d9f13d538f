// A minimal hooks runtime (not React) so hook tasks run under plain node with no packages.
// Semantics that matter for the tasks match React: effects run after render, only when a
// dependency changed (Object.is), memo/callback values are reused while deps are equal, and a
// state setter does not re-render by itself (the check calls render again, like a parent would).
type Deps = readonly unknown[] | undefined;

interface Slot {
  value?: unknown;
  deps?: Deps;
  cleanup?: (() => void) | void;
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
  private effects: Array<() => void> = [];

  constructor(private readonly component: (props: P) => R) {}

  render(props: P): R {
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
