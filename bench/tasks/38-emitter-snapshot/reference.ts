type Listener<A extends unknown[]> = (...args: A) => void;

interface Registration<A extends unknown[]> {
  listener: Listener<A>;
  once: boolean;
  active: boolean;
}

export class Emitter<Events extends Record<string, unknown[]>> {
  private registrations: { [E in keyof Events]?: Array<Registration<Events[E]>> } = {};

  on<E extends keyof Events>(event: E, listener: Listener<Events[E]>): () => void {
    return this.add(event, listener, false);
  }

  once<E extends keyof Events>(event: E, listener: Listener<Events[E]>): () => void {
    return this.add(event, listener, true);
  }

  off<E extends keyof Events>(event: E, listener: Listener<Events[E]>): void {
    for (const reg of this.registrations[event] ?? []) {
      if (reg.listener === listener) this.remove(event, reg);
    }
  }

  emit<E extends keyof Events>(event: E, ...args: Events[E]): void {
    // A snapshot, so registrations added or removed by listeners never shift the iteration.
    const snapshot = [...(this.registrations[event] ?? [])];
    for (const reg of snapshot) {
      if (!reg.active) continue;
      if (reg.once) this.remove(event, reg);
      reg.listener(...args);
    }
  }

  private add<E extends keyof Events>(event: E, listener: Listener<Events[E]>, once: boolean): () => void {
    const reg: Registration<Events[E]> = { listener, once, active: true };
    this.registrations[event] = [...(this.registrations[event] ?? []), reg];
    return () => this.remove(event, reg);
  }

  private remove<E extends keyof Events>(event: E, reg: Registration<Events[E]>): void {
    if (!reg.active) return;
    reg.active = false;
    this.registrations[event] = (this.registrations[event] ?? []).filter((r) => r !== reg);
  }
}
