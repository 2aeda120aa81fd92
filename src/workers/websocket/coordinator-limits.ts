/**
 * What a coordinator (coordinator.ts) holds at most, and the count of its open connections per
 * address that the caps are checked against. Anyone may dial a coordinator, so every cost a
 * connection causes has a cap here.
 */

/** What one coordinator holds at most. A connection beyond a cap is closed with code 4401 and why. */
export interface CoordinatorLimits {
  /** Open connections at once: offers, waiting callers, both ends of each relayed pair. */
  maxConnections: number;
  /** Open connections from one address. */
  maxPerAddress: number;
  /** Callers waiting at once for one worker id to offer a connection. */
  maxWaitingPerId: number;
  /** Worker ids remembered (their offers and traffic counts); the oldest idle ones are forgotten. */
  maxIds: number;
}

export const DEFAULT_COORDINATOR_LIMITS: Readonly<CoordinatorLimits> = Object.freeze({
  maxConnections: 1024,
  maxPerAddress: 256,
  maxWaitingPerId: 32,
  maxIds: 4096,
});

/** Open connections and their addresses, counted per address. */
export class OpenConnections<S> {
  readonly #address = new Map<S, string>();
  readonly #perAddress = new Map<string, number>();

  /** Connections open now. */
  get size(): number {
    return this.#address.size;
  }

  /** Connections open now from `address`. */
  from(address: string): number {
    return this.#perAddress.get(address) ?? 0;
  }

  add(socket: S, address: string): void {
    this.#address.set(socket, address);
    this.#perAddress.set(address, this.from(address) + 1);
  }

  /** Forgets `socket` (once; later calls do nothing). */
  remove(socket: S): void {
    const address = this.#address.get(socket);
    if (address === undefined) return;
    this.#address.delete(socket);
    const n = this.from(address) - 1;
    if (n > 0) this.#perAddress.set(address, n);
    else this.#perAddress.delete(address);
  }
}

/** Which cap (if any) one more connection from `address` would pass; `waiting` callers already wait for `id`. */
export function overCap<S>(l: CoordinatorLimits, open: OpenConnections<S>, address: string, id: string, waiting: number): string | undefined {
  if (open.size >= l.maxConnections) return `the coordinator holds ${l.maxConnections} connections, its limit maxConnections`;
  if (open.from(address) >= l.maxPerAddress) return `this address holds ${l.maxPerAddress} connections, the limit maxPerAddress`;
  if (waiting >= l.maxWaitingPerId) return `${l.maxWaitingPerId} callers already wait for worker '${id}', the limit maxWaitingPerId`;
  return undefined;
}
