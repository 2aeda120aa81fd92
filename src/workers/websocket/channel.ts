/**
 * Exactly-once, in-order delivery of binary frames over connections that may drop and come back.
 *
 * Each side numbers the frames it sends (implicitly: the n-th binary frame of a session is frame
 * n) and keeps them until the other side acknowledges them. Acks are small control frames, sent
 * in batches. After a reconnection the handshake tells each side how many frames the other has
 * received; each drops those and resends the rest, in order, before anything new. So a command
 * in flight when a connection dropped runs once, never twice and never not at all.
 */
import { WireFormatError } from '../../errors.js';
import type { Message } from '../messages.js';
import { decodeMessage, encodeMessage } from '../serde.js';
import { type Control, controlText } from './protocol.js';
import type { FrameSocket } from './socket.js';
import { type Traffic, noTraffic } from './traffic.js';

// Bytes of a text frame on the wire (UTF-8); control frames are nearly always ASCII.
function utf8Length(text: string): number {
  return /^[\x00-\x7f]*$/.test(text) ? text.length : new TextEncoder().encode(text).length;
}

export class FrameChannel {
  // Frames sent but not yet acknowledged; unacked[0] is frame number `acked + 1`.
  private unacked: Uint8Array[] = [];
  private acked = 0;
  private unackedBytes = 0;
  private ackedUpTo = 0;
  private ackTimer: ReturnType<typeof setTimeout> | undefined;
  private socket: FrameSocket | undefined;
  /** Binary frames sent in this session. */
  sent = 0;
  /** Binary frames received in this session. */
  received = 0;
  /** Everything counted on this channel, across sessions and reconnections. */
  readonly traffic: Traffic = noTraffic();

  constructor(
    private readonly ackDelayMs = 20,
    private readonly ackEvery = 256,
  ) {}

  /** Encodes a message into a frame, timing it. */
  encode(msg: Message): Uint8Array {
    const t0 = performance.now();
    try {
      return encodeMessage(msg);
    } finally {
      this.traffic.encodeMs += performance.now() - t0;
    }
  }

  /** Decodes and validates a received frame, timing it. Throws a WireFormatError. */
  decode(frame: Uint8Array): Message {
    const t0 = performance.now();
    try {
      return decodeMessage(frame);
    } finally {
      this.traffic.decodeMs += performance.now() - t0;
    }
  }

  /** Frames kept for a possible resend. */
  get pending(): number {
    return this.unacked.length;
  }

  /** Bytes of the frames kept for a possible resend. */
  get pendingBytes(): number {
    return this.unackedBytes;
  }

  get attached(): boolean {
    return this.socket !== undefined;
  }

  /** Sends a frame now, or keeps it for when a connection is attached. */
  send(frame: Uint8Array): void {
    this.sent++;
    this.traffic.messagesSent++;
    this.traffic.bytesSent += frame.byteLength;
    this.unacked.push(frame);
    this.unackedBytes += frame.byteLength;
    if (this.socket?.isOpen) this.socket.send(frame);
  }

  /** Counts an incoming binary frame; acknowledgements go out in batches. */
  noteReceived(bytes: number): void {
    this.received++;
    this.traffic.messagesReceived++;
    this.traffic.bytesReceived += bytes;
    if (this.received - this.ackedUpTo >= this.ackEvery) this.sendAck();
    else if (this.ackTimer === undefined) {
      this.ackTimer = setTimeout(() => this.sendAck(), this.ackDelayMs);
      this.ackTimer.unref?.();
    }
  }

  private sendAck(): void {
    if (this.ackTimer !== undefined) clearTimeout(this.ackTimer);
    this.ackTimer = undefined;
    if (!this.socket?.isOpen || this.ackedUpTo === this.received) return;
    this.ackedUpTo = this.received;
    this.sendControl({ t: 'ack', n: this.received });
  }

  /** Sends a control frame on the attached connection, if any (counted, never resent). */
  sendControl(c: Control): void {
    if (!this.socket?.isOpen) return;
    const text = controlText(c);
    this.traffic.bytesSent += utf8Length(text);
    this.socket.send(text);
  }

  /** Counts an incoming control frame. */
  noteControl(bytes: number): void {
    this.traffic.bytesReceived += bytes;
  }

  /** The other side holds every frame up to number `n`. */
  acknowledge(n: number): void {
    if (!Number.isSafeInteger(n) || n < this.acked || n > this.sent) {
      throw new WireFormatError(`acknowledgement of frame ${n}, but frames ${this.acked + 1}..${this.sent} are outstanding`);
    }
    for (const f of this.unacked.splice(0, n - this.acked)) this.unackedBytes -= f.byteLength;
    this.acked = n;
  }

  /** Sends over `socket` from now on: drops what the other side has, resends the rest in order. */
  attach(socket: FrameSocket, otherReceived: number): void {
    this.acknowledge(otherReceived);
    this.socket = socket;
    // The handshake told the other side how much we have received.
    this.ackedUpTo = this.received;
    for (const f of this.unacked) socket.send(f);
  }

  /** The connection went away; frames wait for the next one. */
  detach(): void {
    this.socket = undefined;
    if (this.ackTimer !== undefined) clearTimeout(this.ackTimer);
    this.ackTimer = undefined;
  }

  /** A new session: nothing outstanding, counts back to zero. */
  reset(): void {
    this.detach();
    this.unacked = [];
    this.unackedBytes = 0;
    this.acked = this.ackedUpTo = this.sent = this.received = 0;
  }
}
