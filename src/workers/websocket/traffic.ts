/**
 * Traffic counters of the WebSocket transport, and the shapes of what a worker reports about
 * itself (`WebsocketServerWorker.traffic()` / `stats()`, `client.workerStats()`).
 */

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

/** A worker's traffic by kind of connection (see {@link WebsocketServerWorker.traffic}). */
export interface WorkerTraffic {
  /** Connections of orchestrators (clients): commands and requests in, replies out. */
  clients: Traffic;
  /** Peer links other workers opened to this one: protocol values in. */
  peers: Traffic;
  /** Peer links this worker opened to others: protocol values out. */
  links: Traffic;
}

/** What {@link WebsocketServerWorker.stats} reports. */
export interface WorkerStats {
  traffic: WorkerTraffic;
  process: {
    /** CPU time used by the process (user + system), in ms. */
    cpuMs: number;
    /** Time the event loop spent running code, in ms. */
    activeMs: number;
    /** Time the event loop spent waiting for something to do, in ms. */
    idleMs: number;
  };
}

export function noTraffic(): Traffic {
  return { messagesSent: 0, bytesSent: 0, messagesReceived: 0, bytesReceived: 0, encodeMs: 0, decodeMs: 0 };
}

export function noWorkerTraffic(): WorkerTraffic {
  return { clients: noTraffic(), peers: noTraffic(), links: noTraffic() };
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
