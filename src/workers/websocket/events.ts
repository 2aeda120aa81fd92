/** A small typed event registry: listeners per event, each called in turn, none able to break the others. */

export class Listeners<E extends { [K in keyof E]: (...args: never[]) => void }> {
  readonly #byEvent = new Map<keyof E, Set<E[keyof E]>>();

  /** Adds a listener; returns a function that removes it. */
  on<K extends keyof E>(event: K, listener: E[K]): () => void {
    let set = this.#byEvent.get(event);
    if (!set) this.#byEvent.set(event, (set = new Set()));
    set.add(listener);
    return () => set.delete(listener);
  }

  emit<K extends keyof E>(event: K, ...args: Parameters<E[K]>): void {
    for (const l of this.#byEvent.get(event) ?? []) {
      try {
        (l as (...a: Parameters<E[K]>) => void)(...args);
      } catch {
        // A listener's failure is its own business; the transport carries on.
      }
    }
  }
}
