/**
 * A session that carries messages to a worker: the frames one authenticated party sends over a
 * connection, decoded, checked for what its role may send, and handed to the worker; the
 * worker's replies sent back over the same exactly-once channel.
 *
 * A session does not care how its connection came to be: accepted by a listening worker
 * (listener.ts), or offered by a worker that dials out and handed to a caller by a coordinator
 * (outbound.ts); either way the sessions live in one table (sessions.ts). A session outlives its connections: it is attached to each new one after a resumed
 * handshake, and detached when one drops.
 */
import { ProtocolError, QuotaError } from '../../errors.js';
import type { Message, ObjectId, ReplyMessage, WireError } from '../messages.js';
import { toWireError } from '../worker.js';
import { FrameChannel } from './channel.js';
import { CLOSE, type Role, parseControl } from './protocol.js';
import type { FrameSocket } from './socket.js';

/** What a session needs from the worker it serves. */
export interface SessionHost {
  /** Hands a checked message to the worker (policy, ownership and `Worker.receive`). */
  deliver(s: ServedSession, msg: Message): void;
  /** Counts and keeps a refusal the session made itself (`worker.rejected`, `lastRejection`). */
  refused(error: WireError): void;
  /** The party ended its session (a `bye`). */
  bye(s: ServedSession): void;
  /** The session's connection dropped. */
  down(s: ServedSession): void;
  /** Most bytes and frames of replies kept unacknowledged (undefined: no cap). */
  readonly unacked?: { bytes: number; frames: number } | undefined;
  /** The party does not acknowledge what it is sent: the session must end. */
  overflow?(s: ServedSession, why: string): void;
}

export class ServedSession {
  socket: FrameSocket | undefined;
  /** Objects its messages created that the worker still holds. */
  readonly owned = new Set<ObjectId>();
  /** Set once the session ended: nothing more is sent or delivered. */
  ended = false;
  /** A peer session: the client whose ticket the peer showed (per-client tokens only). */
  issuer: string | undefined;

  constructor(
    readonly id: string,
    readonly role: Role,
    /** The sender id its messages carry: the client's name, or the authenticated peer id. */
    readonly from: string,
    /** The ticket a peer session was opened with (a resume must show the same). */
    readonly ticket: string | undefined,
    private readonly host: SessionHost,
    /** The exactly-once channel replies go out on (a dialled carrier passes its own). */
    readonly channel = new FrameChannel(),
  ) {}

  /** Carries the session over `socket` from now on: drops what the other side has, resends the rest. */
  attach(socket: FrameSocket, otherReceived: number): void {
    this.channel.attach(socket, otherReceived);
    this.socket = socket;
    socket.onBinary = (frame) => this.onBinary(frame);
    socket.onText = (text, bytes) => this.onText(socket, text, bytes);
    socket.onClose = () => {
      if (this.socket === socket) this.host.down(this);
    };
  }

  /** The connection went away (or another replaced it): frames wait for the next one. */
  detach(): FrameSocket | undefined {
    const old = this.socket;
    this.socket = undefined;
    this.channel.detach();
    if (old) old.onBinary = old.onText = old.onClose = undefined;
    return old;
  }

  private onBinary(data: Uint8Array): void {
    if (this.ended) return;
    this.channel.noteReceived(data.length);
    let msg: Message;
    try {
      msg = this.channel.decode(data);
    } catch (e) {
      return this.refuse(e, undefined);
    }
    this.handle(msg);
  }

  /** Takes one decoded message of the session's party: refused when its role may not send it, else delivered. */
  handle(msg: Message): void {
    if (this.role === 'peer' && msg.kind !== 'peer') {
      return this.refuse(new ProtocolError(`a peer connection carries protocol values only, not '${msg.kind}' messages`), msg);
    }
    if (this.role === 'client' && msg.kind === 'peer') {
      return this.refuse(
        new ProtocolError('protocol values are accepted only from peers that connected with a ticket (introduce the workers to each other)'),
        msg,
      );
    }
    this.host.deliver(this, msg);
  }

  private onText(socket: FrameSocket, text: string, bytes: number): void {
    if (this.ended) return;
    this.channel.noteControl(bytes);
    try {
      const c = parseControl(text);
      if (c.t === 'ack') this.channel.acknowledge(c.n);
      else if (c.t === 'bye') {
        this.host.bye(this);
        socket.close(CLOSE.normal, 'bye');
      } else throw new ProtocolError(`a '${c.t}' frame is not expected after the handshake`);
    } catch (e) {
      this.host.refused(toWireError(e, 'control'));
      this.channel.sendControl({ t: 'error', reason: (e as Error).message.slice(0, 1000) });
    }
  }

  /** Refuses a message the worker will not run (undecodable, wrong for the role, against a policy). */
  refuse(e: unknown, msg: Message | undefined): void {
    const error = toWireError(e, msg?.kind === 'cmd' || msg?.kind === 'req' ? msg.op : (msg?.kind ?? 'message'));
    this.host.refused(error);
    this.reply({ kind: 'reply', req: msg?.kind === 'req' ? msg.req : 0, ok: false, error });
  }

  /** Sends a reply (it waits for the next connection if there is none now). */
  reply(r: ReplyMessage): void {
    if (this.ended) return;
    let frame: Uint8Array;
    try {
      frame = this.channel.encode(r);
    } catch (e) {
      frame = this.channel.encode({ kind: 'reply', req: r.req, ok: false, error: toWireError(e, 'reply') });
    }
    const cap = this.host.unacked;
    if (cap !== undefined && r.ok && this.channel.pendingBytes + frame.byteLength > cap.bytes) {
      // The party is not acknowledging its replies: answer with an error, keep the memory bounded.
      const e = new QuotaError(
        `${this.channel.pendingBytes} bytes of replies already wait for this session's acknowledgement (limit maxUnackedBytes = ${cap.bytes}): ` +
          'the client must acknowledge what it receives',
        'maxUnackedBytes',
        cap.bytes,
      );
      frame = this.channel.encode({ kind: 'reply', req: r.req, ok: false, error: toWireError(e, 'reply') });
    }
    this.channel.send(frame);
    if (cap !== undefined && this.channel.pending > cap.frames) {
      this.host.overflow?.(this, `more than ${cap.frames} replies unacknowledged (limit maxUnackedFrames)`);
    }
  }
}
