/**
 * The inside of a ThreadWorker: a worker living in a `node:worker_threads` thread. The main
 * thread reaches it through the parent port; other thread workers through direct MessageChannel
 * ports (values of a protocol go thread to thread); workers of the main thread through a relay
 * on the parent port. The thread's entry point is src/thread-host.ts, which loads the library
 * (its registrations of commands and codecs) and then calls {@link hostThread}.
 */
import type { MessagePort } from 'node:worker_threads';
import { ProtocolError } from '../../errors.js';
import type { Message, RequestMessage, WireValue } from '../messages.js';
import { type RemoteWorker, Worker } from '../worker.js';
import type { FromThread, ThreadInit, ToThread } from './protocol.js';

const onlyValues = () => Promise.reject(new ProtocolError('thread workers only exchange protocol values with their peers'));

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
    return onlyValues();
  }
  introduce(): void {}
}

/** A worker of the main thread, reached through the parent port. */
class RelayPeer implements RemoteWorker {
  constructor(
    readonly id: string,
    private readonly send: (m: FromThread) => void,
  ) {}
  post(msg: Message): void {
    this.send({ t: 'relay', to: this.id, msg });
  }
  request(_msg: RequestMessage): Promise<WireValue> {
    return onlyValues();
  }
  introduce(): void {}
}

class HostedWorker extends Worker {
  private readonly self: RemoteWorker = {
    id: this.id,
    post: (msg) => this.receive(msg, this.id),
    request: () => Promise.reject(new ProtocolError('a thread worker does not request from itself')),
    introduce: () => {},
  };

  constructor(
    init: ThreadInit,
    private readonly send: (m: FromThread) => void,
  ) {
    super({ id: init.id, timeoutMs: init.timeoutMs });
  }

  asRemote(): RemoteWorker {
    return this.self;
  }

  // Unknown ids are workers of the main thread: relay.
  protected override findPeer(peer: string): RemoteWorker | undefined {
    return new RelayPeer(peer, this.send);
  }

  link(peer: string, p: MessagePort): void {
    p.on('message', (msg: unknown) => this.receive(msg, peer));
    this.addWorker(new PortPeer(peer, p));
  }
}

/** Serves a worker over `port` (the thread's parent port) until the thread ends. */
export function hostThread(port: MessagePort, init: ThreadInit): void {
  const send = (m: FromThread) => port.postMessage(m);
  const worker = new HostedWorker(init, send);
  let seen = 0; // messages taken from the parent port
  worker.onIdle = () => send({ t: 'idle', seen });
  port.on('message', (m: ToThread) => {
    seen++;
    if (m.t === 'link') worker.link(m.peer, m.port);
    else worker.receive(m.msg, m.from, (reply) => send({ t: 'reply', reply }));
  });
  send({ t: 'ready' });
}
