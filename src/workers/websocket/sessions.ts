/**
 * A listening worker's sessions: which exist, which objects each owns, and how long a session
 * whose connection dropped is kept (its grace period).
 *
 * The objects a session's messages create belong to it; when the session ends — its party said
 * `bye` (`close()` on the client), or its connection stayed down longer than the grace period —
 * the worker frees those it still holds. Objects that left (fetched with `get()`, moved to another
 * worker, deleted) are no longer the session's. A party that reconnects in time resumes its
 * session (same role, id and ticket only) and loses nothing.
 */
import { resolveCounts } from './admission.js';
import { randomHex } from './auth.js';
import type { Admitted } from './handshake.js';
import type { Message, ObjectId, ReplyMessage } from '../messages.js';
import { CLOSE, type Hello } from './protocol.js';
import { ServedSession, type SessionHost } from './session.js';
import { type WorkerTraffic, addTraffic, noWorkerTraffic } from './traffic.js';

/** How many sessions a worker keeps, and how much each may leave unacknowledged. */
export interface SessionLimits {
  /** Sessions alive at once (connected or in their grace period). Default 4096. */
  maxSessions: number;
  /** Sessions of one identity (a client's name, a peer's id) at once. Default 64. */
  maxSessionsPerIdentity: number;
  /** Bytes of replies a session may leave unacknowledged; beyond, replies become QuotaErrors. Default 256 MiB. */
  maxUnackedBytes: number;
  /** Replies a session may leave unacknowledged; beyond, the session ends. Default 65536. */
  maxUnackedFrames: number;
}

export const DEFAULT_SESSION_LIMITS: Readonly<SessionLimits> = Object.freeze({
  maxSessions: 4096,
  maxSessionsPerIdentity: 64,
  maxUnackedBytes: 256 * 2 ** 20,
  maxUnackedFrames: 65_536,
});
// Frees go to the worker in batches of this many ids.
const FREE_BATCH = 50_000;

/** What the table needs from the worker. */
export interface SessionTableHost extends Omit<SessionHost, 'down' | 'bye'> {
  readonly graceMs: number;
  /** Over the defaults (DEFAULT_SESSION_LIMITS). */
  readonly limits: Partial<SessionLimits> | undefined;
  log(line: string): void;
  /** Queues a `del` of `ids` in the queue of `sender` (behind the session's commands still waiting to run). */
  free(ids: ObjectId[], sender: string): void;
  /** No orchestrator holds a session any more. */
  noClientsLeft(): void;
}

export class SessionTable {
  readonly #sessions = new Map<string, ServedSession>();
  readonly #owners = new Map<ObjectId, ServedSession>();
  readonly #grace = new Map<ServedSession, ReturnType<typeof setTimeout>>();
  // Traffic of sessions that ended, so the totals never go down.
  readonly #retired = noWorkerTraffic();
  readonly #host: SessionHost;
  readonly #limits: SessionLimits;

  constructor(private readonly table: SessionTableHost) {
    const limits = (this.#limits = resolveCounts(DEFAULT_SESSION_LIMITS, table.limits, 'session'));
    this.#host = {
      deliver: (s, m) => table.deliver(s, m),
      refused: (e) => table.refused(e),
      bye: (s) => this.end(s, 'closed by the client'),
      down: (s) => this.down(s),
      unacked: { bytes: limits.maxUnackedBytes, frames: limits.maxUnackedFrames },
      overflow: (s, why) => {
        const socket = s.socket;
        this.end(s, why);
        socket?.close(CLOSE.protocol, why.slice(0, 120));
      },
    };
  }

  get size(): number {
    return this.#sessions.size;
  }

  values(): IterableIterator<ServedSession> {
    return this.#sessions.values();
  }

  hasClients(): boolean {
    for (const s of this.#sessions.values()) if (s.role === 'client') return true;
    return false;
  }

  /** What the sessions carried, ended ones included: `clients` and `peers` (links are counted elsewhere). */
  traffic(): Pick<WorkerTraffic, 'clients' | 'peers'> {
    const out = { clients: { ...this.#retired.clients }, peers: { ...this.#retired.peers } };
    for (const s of this.#sessions.values()) addTraffic(s.role === 'peer' ? out.peers : out.clients, s.channel.traffic);
    return out;
  }

  /** The handshake's question: resume the session `hello` names (same identity only), or open one. */
  admit(hello: Hello, issuer?: string): Admitted | string {
    let s = hello.session === undefined ? undefined : this.#sessions.get(hello.session);
    if (s && (s.role !== hello.role || s.from !== hello.id || s.ticket !== hello.ticket || s.issuer !== issuer)) s = undefined;
    const resumed = s !== undefined;
    if (s) {
      this.stopGrace(s);
      s.detach()?.close(CLOSE.replaced, 'replaced by a newer connection of this session');
    } else {
      const full = this.makeRoom(hello.role, hello.id);
      if (full) return full;
      s = new ServedSession(randomHex(), hello.role, hello.id, hello.ticket, this.#host);
      s.issuer = issuer;
      this.#sessions.set(s.id, s);
    }
    const session = s;
    return { id: s.id, resumed, received: s.channel.received, attach: (socket, n) => session.attach(socket, n) };
  }

  /**
   * Makes room for one more session of (role, id): an identity at its limit, or a full table,
   * gives up its (or the) session whose connection has been down longest; with none down, the
   * new session is refused (the string says why).
   */
  private makeRoom(role: string, from: string): string | undefined {
    const { maxSessions, maxSessionsPerIdentity } = this.#limits;
    let mine = 0;
    for (const s of this.#sessions.values()) if (s.role === role && s.from === from) mine++;
    if (mine >= maxSessionsPerIdentity) {
      const dead = [...this.#grace.keys()].find((s) => s.role === role && s.from === from);
      if (!dead) return `'${from}' already has ${mine} sessions here (limit maxSessionsPerIdentity): close one first`;
      this.end(dead, `reclaimed: '${from}' opened a new session at its limit`);
    }
    if (this.#sessions.size >= maxSessions) {
      const [dead] = this.#grace.keys();
      if (!dead) return `this worker holds ${this.#sessions.size} connected sessions (limit maxSessions): try again later`;
      this.end(dead, 'reclaimed: the worker was at its session limit');
    }
    return undefined;
  }

  private down(s: ServedSession): void {
    s.detach();
    if (!this.#sessions.has(s.id)) return;
    const graceMs = this.table.graceMs;
    const timer = setTimeout(() => this.end(s, `its connection was down for ${graceMs} ms`), graceMs);
    timer.unref?.();
    this.#grace.set(s, timer);
  }

  private stopGrace(s: ServedSession): void {
    const t = this.#grace.get(s);
    if (t !== undefined) clearTimeout(t);
    this.#grace.delete(s);
  }

  /** Ends a session: frees the objects it still owns. */
  end(s: ServedSession, why: string): void {
    if (!this.#sessions.delete(s.id)) return;
    this.stopGrace(s);
    s.ended = true;
    s.detach(); // frames still arriving on its connection are ignored
    addTraffic(s.role === 'peer' ? this.#retired.peers : this.#retired.clients, s.channel.traffic);
    s.channel.reset();
    const ids = [...s.owned];
    for (const id of ids) this.#owners.delete(id);
    s.owned.clear();
    for (let i = 0; i < ids.length; i += FREE_BATCH) this.table.free(ids.slice(i, i + FREE_BATCH), s.from);
    this.table.log(`ended ${s.role} session of '${s.from}' (${why}); freed ${ids.length} object(s)`);
    if (s.role === 'client' && !this.hasClients()) this.table.noClientsLeft();
  }

  // ---- ownership ----------------------------------------------------------------------------

  /**
   * Runs a message of `s` (`run` hands it to the worker, false when the worker refused it), and
   * makes the objects it creates `s`'s: the ids it fills that nobody owns and the worker did not
   * hold before (`held`).
   */
  receive(s: ServedSession, msg: Message, held: (id: ObjectId) => boolean, run: (reply: (r: ReplyMessage) => void) => boolean): void {
    const claims = msg.kind === 'store' ? [msg.id] : msg.kind === 'cmd' ? msg.ret : [];
    const unclaimed = claims.filter((id) => !this.#owners.has(id) && !held(id));
    if (!run((r) => s.reply(r))) return;
    for (const id of unclaimed) {
      this.#owners.set(id, s);
      s.owned.add(id);
    }
  }

  /** The object left the worker, or was freed: no session owns it any more. */
  disown(id: ObjectId): void {
    const s = this.#owners.get(id);
    if (!s) return;
    s.owned.delete(id);
    this.#owners.delete(id);
  }

  /** Every object was forgotten. */
  disownAll(): void {
    this.#owners.clear();
    for (const s of this.#sessions.values()) s.owned.clear();
  }

  /** The worker is shutting down: every session goes, nothing is freed one by one. */
  clear(): void {
    for (const s of this.#grace.values()) clearTimeout(s);
    this.#grace.clear();
    for (const s of this.#sessions.values()) s.ended = true;
    this.#sessions.clear();
    this.#owners.clear();
  }
}
