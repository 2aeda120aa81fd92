/**
 * A connection this side dialled, kept up: it connects and authenticates (handshake.ts), carries
 * messages both ways with exactly-once delivery (channel.ts), and after an unexpected drop
 * reconnects by itself (for `reconnectWithinMs`), resumes its session and resends what the
 * worker missed. Posts made meanwhile wait for the new connection. When the worker no longer
 * holds the session, or reconnecting fails, whatever waited on the connection is told (`lost`).
 *
 * What the connection carries is not its business: a client worker puts a request/reply core
 * on it (client.ts), a worker's peer link sends protocol values over it (peers.ts), and a worker
 * that serves over a connection it dialled can carry a served session on it the same way.
 */
import { AuthenticationError, ProtocolError, ValueError } from '../../errors.js';
import type { Message, WireError } from '../messages.js';
import { FrameChannel } from './channel.js';
import type { Ticket } from './handshake.js';
import { dialHandshake } from './handshake-dial.js';
import { CLOSE, type Control, DEFAULT_MAX_MESSAGE_BYTES, type Role, type Welcome, controlText, parseControl } from './protocol.js';
import { type Dial, type DialOptions, type FrameSocket, abandon } from './socket.js';

export type State = 'connecting' | 'open' | 'reconnecting' | 'closed';

export interface DialledOptions {
  url: string;
  role: Role;
  /** The id this side gives (its owner's). */
  selfId: string;
  /** The worker id expected at `url`; learnt in the handshake when undefined. */
  expectId: string | undefined;
  token: string | undefined;
  ticket: Ticket | undefined;
  connectTimeoutMs: number;
  reconnect: boolean;
  reconnectWithinMs: number;
  maxIncoming: number;
  ca: DialOptions['ca'];
  fingerprint?: string | undefined;
  dial: Dial;
  /** Refuse the link unless it is sealed end to end (a link through a relay). */
  requireSeal?: boolean;
}

/** What the carrier of the connection is told. */
export interface DialledHooks {
  /** A message came in. */
  message(msg: Message): void;
  /** Something unusable came in, or the worker reported a control error. */
  problem(error: WireError): void;
  /** What waited on the connection is lost: the worker dropped the session, or the connection ended. */
  lost(err: Error): void;
  disconnect(info: { code: number; reason: string }): void;
  reconnect(info: { resumed: boolean }): void;
  /** Stopped for good (closed, or reconnecting failed). */
  close(err: Error): void;
  /** A control frame other than ack and error came in (a coordinator's `splice`); throw to refuse it. */
  control?(c: Control): void;
}

const FATAL_CLOSE = new Set<number>([CLOSE.normal, CLOSE.refused, CLOSE.protocol, CLOSE.tooBig, CLOSE.replaced]);

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class DialledConnection {
  /** The worker's id (as it announced itself). */
  id: string | undefined;
  state: State = 'connecting';
  readonly channel = new FrameChannel();
  #maxOutgoing = DEFAULT_MAX_MESSAGE_BYTES;
  #socket: FrameSocket | undefined;
  #session: string | undefined;
  #closedBy: Error | undefined;
  #reconnecting: Promise<{ resumed: boolean }> | undefined;

  constructor(
    readonly opts: DialledOptions,
    private readonly hooks: DialledHooks,
  ) {
    this.id = opts.expectId;
  }

  /** Opens a connection and runs the handshake; resumes the session when `resume` and one exists. */
  open(resume: boolean, budgetMs = this.opts.connectTimeoutMs): Promise<{ resumed: boolean }> {
    const o = this.opts;
    const socket = o.dial(o.url, { maxMessageBytes: o.maxIncoming, timeoutMs: budgetMs, ca: o.ca, fingerprint: o.fingerprint });
    const session = resume ? this.#session : undefined;
    return dialHandshake(
      socket,
      {
        url: o.url,
        role: o.role,
        selfId: o.selfId,
        expectId: this.id,
        token: o.token,
        ticket: o.ticket,
        session,
        received: this.channel.received,
        budgetMs,
        requireSeal: o.requireSeal,
      },
      (sealed, welcome, challenge) => this.adopt(sealed, welcome, challenge.id, challenge.maxMessageBytes),
    );
  }

  // Takes over a connection whose handshake just succeeded (inside the welcome's handler).
  private adopt(socket: FrameSocket, welcome: Welcome, serverId: string, maxOutgoing: number): { resumed: boolean } {
    if (this.state === 'closed') {
      // close() was called while this connection was being made.
      socket.terminate();
      throw this.#closedBy ?? new ProtocolError(`the connection to worker '${this.label}' was closed`);
    }
    this.id ??= serverId;
    this.#maxOutgoing = maxOutgoing;
    const hadSession = this.#session !== undefined;
    if (!welcome.resumed) {
      if (hadSession) {
        this.hooks.lost(
          new ProtocolError(
            `worker '${this.label}' no longer holds this client's session (it restarted, or the connection was down ` +
              'longer than its session grace period): the objects sent to it before are gone',
          ),
        );
      }
      this.channel.reset();
    }
    try {
      this.channel.attach(socket, welcome.received);
    } catch (e) {
      socket.close(CLOSE.protocol, 'bad resume point');
      throw new ProtocolError(`worker '${this.label}' resumed the session at an impossible point: ${(e as Error).message}`);
    }
    this.#session = welcome.session;
    this.#socket = socket;
    socket.onBinary = (frame) => this.onBinary(socket, frame);
    socket.onText = (text, bytes) => this.onText(socket, text, bytes);
    socket.onClose = (code, reason) => this.onClose(socket, code, reason);
    this.state = 'open';
    if (hadSession) this.hooks.reconnect({ resumed: welcome.resumed });
    return { resumed: welcome.resumed };
  }

  private get label(): string {
    return this.id ?? '?';
  }

  private onClose(socket: FrameSocket, code: number, reason: string): void {
    if (socket !== this.#socket) return;
    this.#socket = undefined;
    this.channel.detach();
    if (this.state === 'closed') return;
    this.hooks.disconnect({ code, reason });
    const why = `code ${code}${reason ? `: ${reason}` : ''}`;
    if (!this.opts.reconnect || FATAL_CLOSE.has(code)) {
      const hint = code === CLOSE.tooBig ? ' (a message was larger than the other side accepts)' : '';
      this.shutdown(new ProtocolError(`the connection to worker '${this.label}' at ${this.opts.url} closed (${why})${hint}`));
      return;
    }
    this.state = 'reconnecting';
    this.#reconnecting = this.reconnectLoop(why);
    this.#reconnecting.catch(() => {});
  }

  private async reconnectLoop(why: string): Promise<{ resumed: boolean }> {
    const { connectTimeoutMs, reconnectWithinMs, url } = this.opts;
    const deadline = Date.now() + reconnectWithinMs;
    let delay = 50;
    let last: Error = new ProtocolError('no attempt made');
    while (this.state === 'reconnecting') {
      const budget = Math.min(connectTimeoutMs, deadline - Date.now());
      if (budget <= 0) break;
      try {
        return await this.open(true, budget);
      } catch (e) {
        last = e as Error;
        if (e instanceof AuthenticationError) break;
      }
      if (Date.now() + delay >= deadline) break;
      await sleep(delay);
      delay = Math.min(delay * 2, 1000);
    }
    const err = new ProtocolError(
      `lost the connection to worker '${this.label}' at ${url} (${why}) and could not reconnect within ` +
        `${reconnectWithinMs} ms (${last.message}); call await worker.reconnect() to try again`,
    );
    if (this.state === 'reconnecting') this.shutdown(err);
    throw err;
  }

  /** Connects again after the connection was lost (or closed), resuming the session when the worker still holds it. */
  async reconnect(): Promise<{ resumed: boolean }> {
    if (this.state === 'open') return { resumed: true };
    if (this.state === 'reconnecting' && this.#reconnecting) {
      try {
        return await this.#reconnecting;
      } catch {
        // The automatic attempts gave up; try once more below.
      }
    }
    this.state = 'reconnecting';
    this.#closedBy = undefined;
    try {
      return await this.open(true);
    } catch (e) {
      this.shutdown(e as Error);
      throw e;
    }
  }

  /** Ends the session (the worker frees its objects) and closes the connection. */
  async close(): Promise<void> {
    const socket = this.#socket;
    this.shutdown(new ProtocolError(`the connection to worker '${this.label}' was closed with close()`));
    this.#socket = undefined;
    this.#session = undefined;
    this.channel.reset();
    if (!socket || !socket.isOpen) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        abandon(socket);
        resolve();
      }, 2000);
      socket.onBinary = socket.onText = undefined;
      socket.onClose = () => {
        clearTimeout(timer);
        resolve();
      };
      socket.send(controlText({ t: 'bye' }));
      socket.close(CLOSE.normal, 'bye');
    });
  }

  private shutdown(err: Error): void {
    const was = this.state;
    this.state = 'closed';
    this.#closedBy = err;
    this.hooks.lost(err);
    if (was !== 'closed') this.hooks.close(err);
  }

  // ---- frames -------------------------------------------------------------------------------

  private onText(socket: FrameSocket, text: string, bytes: number): void {
    if (socket !== this.#socket) return;
    this.channel.noteControl(bytes);
    try {
      const c = parseControl(text);
      if (c.t === 'ack') this.channel.acknowledge(c.n);
      else if (c.t === 'error') this.hooks.problem({ name: 'ProtocolError', message: c.reason, op: 'control' });
      else if (c.t === 'splice' && this.hooks.control) this.hooks.control(c);
      else throw new ProtocolError(`unexpected '${c.t}' frame`);
    } catch (e) {
      // The worker broke the transport's rules: this connection cannot be trusted to continue.
      this.hooks.problem({ name: 'ProtocolError', message: (e as Error).message, op: 'control' });
      socket.close(CLOSE.protocol, 'protocol error');
    }
  }

  private onBinary(socket: FrameSocket, frame: Uint8Array): void {
    if (socket !== this.#socket) return;
    this.channel.noteReceived(frame.length);
    let msg: Message;
    try {
      msg = this.channel.decode(frame);
    } catch (e) {
      this.hooks.problem({ name: 'WireFormatError', message: `undecodable frame from worker '${this.label}': ${(e as Error).message}`, op: 'reply' });
      return;
    }
    this.hooks.message(msg);
  }

  /** Sends a message now, or when the connection is back; throws once the connection is closed for good. */
  send(msg: Message): void {
    if (this.state === 'closed') {
      throw new ProtocolError(`not connected to worker '${this.label}' at ${this.opts.url}: ${this.#closedBy?.message ?? 'closed'}`);
    }
    const frame = this.channel.encode(msg);
    if (frame.length > this.#maxOutgoing) {
      throw new ValueError(
        `a '${msg.kind}' message of ${frame.length} bytes is larger than worker '${this.label}' accepts ` +
          `(${this.#maxOutgoing} bytes): send the data in smaller pieces, or start the worker with a larger --max-message-bytes`,
      );
    }
    this.channel.send(frame);
  }
}
