/**
 * Exactly-once, in-order delivery of binary frames over connections that may drop and come back.
 *
 * Each side numbers the frames it sends (implicitly: the n-th binary frame of a session is frame
 * n) and keeps them until the other side acknowledges them. Acks are small control frames, sent
 * in batches. After a reconnection the handshake tells each side how many frames the other has
 * received; each drops those and resends the rest, in order, before anything new. So a command
 * in flight when a connection dropped runs once, never twice and never not at all.
 */
import { WebSocket } from 'ws';
import { WireFormatError } from '../../errors.js';
import type { Message } from '../messages.js';
import { decodeMessage, encodeMessage } from '../serde.js';
import { type Control, controlText } from './protocol.js';

/**
 * What crossed one connection (or a sum of connections), counted since it was made: syft
 * messages (binary frames) and every payload byte, acknowledgements included, and the time spent
 * turning messages into frames and back. WebSocket framing (2-14 bytes per frame) and TCP/TLS
 * overhead are not counted.
 */
export interface Traffic {
  messagesSent: number;
  bytesSent: number;
  messagesReceived: number;
  bytesReceived: number;
  /** Milliseconds spent encoding the messages sent. */
  encodeMs: number;
  /** Milliseconds spent decoding (and validating) the messages received. */
  decodeMs: number;
}

export function noTraffic(): Traffic {
  return { messagesSent: 0, bytesSent: 0, messagesReceived: 0, bytesReceived: 0, encodeMs: 0, decodeMs: 0 };
}

/** Adds `b` into `a` (and returns `a`). */
export function addTraffic(a: Traffic, b: Readonly<Traffic>): Traffic {
  a.messagesSent += b.messagesSent;
  a.bytesSent += b.bytesSent;
  a.messagesReceived += b.messagesReceived;
  a.bytesReceived += b.bytesReceived;
  a.encodeMs += b.encodeMs;
  a.decodeMs += b.decodeMs;
  return a;
}

export class FrameChannel {
  // Frames sent but not yet acknowledged; unacked[0] is frame number `acked + 1`.
  private unacked: Uint8Array[] = [];
  private acked = 0;
  private ackedUpTo = 0;
  private ackTimer: ReturnType<typeof setTimeout> | undefined;
  private socket: WebSocket | undefined;
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

  get attached(): boolean {
    return this.socket !== undefined;
  }

  /** Sends a frame now, or keeps it for when a connection is attached. */
  send(frame: Uint8Array): void {
    this.sent++;
    this.traffic.messagesSent++;
    this.traffic.bytesSent += frame.byteLength;
    this.unacked.push(frame);
    if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(frame, { binary: true });
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
    if (this.socket?.readyState !== WebSocket.OPEN || this.ackedUpTo === this.received) return;
    this.ackedUpTo = this.received;
    this.sendControl({ t: 'ack', n: this.received });
  }

  /** Sends a control frame on the attached connection, if any (counted, never resent). */
  sendControl(c: Control): void {
    if (this.socket?.readyState !== WebSocket.OPEN) return;
    const text = controlText(c);
    this.traffic.bytesSent += Buffer.byteLength(text);
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
    this.unacked.splice(0, n - this.acked);
    this.acked = n;
  }

  /** Sends over `socket` from now on: drops what the other side has, resends the rest in order. */
  attach(socket: WebSocket, otherReceived: number): void {
    this.acknowledge(otherReceived);
    this.socket = socket;
    // The handshake told the other side how much we have received.
    this.ackedUpTo = this.received;
    for (const f of this.unacked) socket.send(f, { binary: true });
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
    this.acked = this.ackedUpTo = this.sent = this.received = 0;
  }
}
