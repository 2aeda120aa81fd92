/**
 * The inside of a ThreadWorker: a worker living in a `node:worker_threads` thread. The main
 * thread reaches it through the parent port; other thread workers through direct MessageChannel
 * ports (values of a protocol go thread to thread); workers of the main thread through a relay
 * on the parent port. Loaded as a thread entry by thread-worker.ts, never imported.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { MessagePort } from 'node:worker_threads';
import * as sy from '../../index.js';
import { ProtocolError } from '../../errors.js';
import type { Message, RequestMessage, WireValue } from '../messages.js';
import { type RemoteWorker, Worker } from '../worker.js';
import type { FromThread, ToThread } from './protocol.js';

const port = parentPort;
if (port === null) throw new Error('thread/host runs in a worker thread');
const { id, timeoutMs, backend } = workerData as { id: string; timeoutMs: number; backend: 'wasm' | 'cpu' };

const send = (m: FromThread) => port.postMessage(m);

/** A peer thread reached through a dedicated port: whoever writes on it is that peer. */
class PortPeer implements RemoteWorker {
  constructor(
    readonly id: string,
    private readonly port: MessagePort,
  ) {}
  post(msg: Message): void {
    this.port.postMessage(msg);
  }
  request(_msg: RequestMessage): Promise<WireValue> {
    return Promise.reject(new ProtocolError('thread workers only exchange protocol values with their peers'));
  }
  introduce(): void {}
}

/** A worker of the main thread, reached through the parent port. */
class RelayPeer implements RemoteWorker {
  constructor(readonly id: string) {}
  post(msg: Message): void {
    send({ t: 'relay', to: this.id, msg });
  }
  request(_msg: RequestMessage): Promise<WireValue> {
    return Promise.reject(new ProtocolError('thread workers only exchange protocol values with their peers'));
  }
  introduce(): void {}
}

class HostedWorker extends Worker {
  private readonly self: RemoteWorker = {
    id,
    post: (msg) => this.receive(msg, id),
    request: () => Promise.reject(new ProtocolError('a thread worker does not request from itself')),
    introduce: () => {},
  };

  asRemote(): RemoteWorker {
    return this.self;
  }

  // Unknown ids are workers of the main thread: relay.
  protected override findPeer(peer: string): RemoteWorker | undefined {
    return new RelayPeer(peer);
  }

  link(peer: string, p: MessagePort): void {
    p.on('message', (msg: unknown) => this.receive(msg, peer));
    this.addWorker(new PortPeer(peer, p));
  }
}

await sy.ready({ backend });
const worker = new HostedWorker({ id, timeoutMs });
let seen = 0; // messages taken from the parent port
worker.onIdle = () => send({ t: 'idle', seen });

port.on('message', (m: ToThread) => {
  seen++;
  switch (m.t) {
    case 'msg':
      worker.receive(m.msg, m.from, (r) => {
        if (!r.ok) send({ t: 'refused', error: r.error });
      });
      return;
    case 'req':
      worker.receive(m.msg, m.from, (reply) => send({ t: 'reply', id: m.id, reply }));
      return;
    case 'link':
      worker.link(m.peer, m.port);
      return;
  }
});
send({ t: 'ready' });
