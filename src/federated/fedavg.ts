/**
 * Federated averaging (FedAvg) over workers: every client trains its own copy of the model on its
 * own worker, uploads its update, a server adds the updates, and every client applies the sum.
 *
 * One round, as AIJack runs it with `server_side_update=False`:
 *
 *   1. each client trains `localSteps` steps from the current model, where its data lives;
 *   2. its update (start − end, times its share of the data n_c / N) goes through the client's
 *      {@link UpdateProtection} (plaintext, or Paillier encryption) and straight to the server;
 *   3. the server adds the uploads: the sum is the weighted mean update Σ n_c/N · Δ_c;
 *   4. each client gets a copy of the sum on its own worker, reveals it there (decrypts, for
 *      Paillier), and sets its model to start − sum. If anything fails, every client goes back to
 *      the round's starting model.
 *
 * All clients start a round from the same model and apply the same sum, so they stay in sync
 * without a server-side model: the server only ever adds what it receives. With one local step
 * an update is lr · gradient (FedSGD); with more it is the model delta of FedAvg.
 */
import { ProtocolError, ValueError } from '../errors.js';
import type { Module } from '../nn/module.js';
import { crossEntropy } from '../nn/losses.js';
import { SGD } from '../optim/sgd.js';
import { Tensor } from '../tensor.js';
import { PointerTensor } from '../tensors/pointer.js';
import { tidy } from '../tensors/scope.js';
import { type Codec, expectFields } from '../workers/codec.js';
import { selfLayer, type CommandSpec } from '../workers/commands.js';
import type { RemoteWorker } from '../workers/worker.js';

/** The commands this file adds to a worker's allow-list (registered by src/registry.ts). */
export const fedavgCommands: Record<string, CommandSpec> = {};
const commands = fedavgCommands;

/** One batch of a client's training data (local tensors; the client sends them to its worker). */
export interface ClientBatch {
  readonly data: Tensor;
  readonly target: Tensor;
}

/**
 * What a client does to its update before it leaves its worker, and to the aggregate when it
 * comes back: nothing ({@link plaintextUpdates}), or encryption (`PaillierGradientManager`).
 * Both functions are lazy: they issue commands on the client's worker and return pointers.
 */
export interface UpdateProtection {
  /** Short name, for logs. */
  readonly name: string;
  /** The client's update (float tensors on its worker) to what it uploads (on its worker). */
  protect(update: readonly Tensor[], client: FedAvgClient): Tensor[];
  /** The aggregate, copied to the client's worker, back to float tensors there. */
  reveal(aggregate: readonly Tensor[], client: FedAvgClient): Tensor[];
}

/** Updates travel and are added in the clear (plain FedAvg). */
export const plaintextUpdates: UpdateProtection = {
  name: 'plaintext',
  protect: (update) => [...update],
  reveal: (aggregate) => [...aggregate],
};

/** Options of a {@link FedAvgClient}. */
export interface FedAvgClientOptions {
  /** The client's worker: its data and its copy of the model live there. */
  readonly worker: RemoteWorker;
  /** The starting model (local); the client trains a copy of it on its worker. */
  readonly model: Module;
  /** The client's training data, sent to its worker once. */
  readonly batches: readonly ClientBatch[];
  /** Learning rate of the client's SGD. Default 0.1. */
  readonly lr?: number;
  /** SGD steps per round, cycling through the batches. Default: one pass over them. */
  readonly localSteps?: number;
  /** The loss. Default cross entropy of logits against one-hot rows. */
  readonly loss?: (output: Tensor, target: Tensor) => Tensor;
  /** What the client does to its update. Default {@link plaintextUpdates}. */
  readonly protection?: UpdateProtection;
}

/**
 * A FedAvg client: a model and data on one worker.
 *
 * @example
 * ```ts
 * const client = new sy.federated.FedAvgClient({ worker: alice, model, batches, lr: 0.1, localSteps: 10 });
 * ```
 */
export class FedAvgClient {
  readonly worker: RemoteWorker;
  /** The client's model; its parameters are pointers to the worker. */
  readonly model: Module;
  /** Training items the client holds (public: it weighs the client's update). */
  readonly size: number;
  readonly localSteps: number;
  /** What the client does to its update (set by the constructor or a manager's `attach`). */
  protection: UpdateProtection;
  private readonly batches: ClientBatch[];
  private readonly optimizer: SGD;
  private readonly lossFn: (output: Tensor, target: Tensor) => Tensor;
  private next = 0;
  private start: Tensor[] | undefined;
  private staged: Tensor[] | undefined;

  constructor(options: FedAvgClientOptions) {
    const { worker, model, batches } = options;
    if (typeof worker?.post !== 'function') throw new ValueError('FedAvgClient needs a worker');
    if (!Array.isArray(batches) || batches.length === 0) throw new ValueError('FedAvgClient needs at least one batch of data');
    for (const b of batches) {
      if (!(b?.data instanceof Tensor) || !(b.target instanceof Tensor)) throw new ValueError('each batch needs { data, target } tensors');
      if (b.data.isPointer || b.target.isPointer) throw new ValueError('give a client local batches: it sends them to its own worker');
    }
    const localSteps = options.localSteps ?? batches.length;
    if (!Number.isSafeInteger(localSteps) || localSteps < 1) throw new ValueError(`localSteps must be a positive integer, got ${localSteps}`);
    this.worker = worker;
    this.model = model.copy().send(worker);
    this.batches = batches.map((b) => ({ data: b.data.send(worker), target: b.target.send(worker) }));
    this.size = batches.reduce((n, b) => n + (b.data.shape[0] ?? 1), 0);
    this.localSteps = localSteps;
    this.optimizer = new SGD(this.model.parameters(), { lr: options.lr ?? 0.1 });
    this.lossFn = options.loss ?? ((output, target) => crossEntropy(output, target));
    this.protection = options.protection ?? plaintextUpdates;
  }

  /** The worker's id. */
  get id(): string {
    return this.worker.id;
  }

  /**
   * Trains `localSteps` SGD steps from the current model on the worker; returns the mean loss
   * of those steps (the only value that leaves the worker).
   */
  async train(): Promise<number> {
    this.releaseStart();
    this.start = tidy(() => this.model.parameters().map((p) => p.data.copy()));
    let total = 0;
    for (let s = 0; s < this.localSteps; s++) {
      const batch = this.batches[this.next]!;
      this.next = (this.next + 1) % this.batches.length;
      const loss = tidy(() => {
        this.optimizer.zeroGrad();
        const l = this.lossFn(this.model.forward(batch.data), batch.target);
        l.backward();
        this.optimizer.step();
        return l;
      });
      total += (await loss.get()).item();
    }
    return total / this.localSteps;
  }

  /**
   * The update of the last {@link train}, (start − now) · weight, protected: pointers to what
   * the client uploads, still on its worker.
   */
  upload(weight: number): Tensor[] {
    const start = this.requireStart('upload');
    if (!Number.isFinite(weight)) throw new ValueError(`an update weight must be a finite number, got ${weight}`);
    return tidy(() => {
      const update = this.model.parameters().map((p, i) => start[i]!.sub(p.data).mul(weight));
      return this.protection.protect(update, this);
    });
  }

  /**
   * Sets the model to start − aggregate, the aggregate being revealed on the worker. Resolves
   * once the worker has done it, or rejects with the worker's error (the model is unchanged then).
   */
  async apply(aggregate: readonly Tensor[]): Promise<void> {
    await this.stage(aggregate);
    this.commit();
  }

  /**
   * The first half of {@link apply}: computes the next model (start − revealed aggregate) on the
   * worker and waits for it, without installing it. A server stages every client before any
   * commits, so that one client's failure leaves all of them on the same model.
   */
  async stage(aggregate: readonly Tensor[]): Promise<void> {
    const start = this.requireStart('stage');
    const params = this.model.parameters();
    if (aggregate.length !== params.length) throw new ValueError(`the aggregate has ${aggregate.length} tensors, the model ${params.length}`);
    this.discard();
    const next = tidy(() => {
      const revealed = this.protection.reveal(aggregate, this);
      return revealed.map((r, i) => start[i]!.sub(r));
    });
    try {
      await settled(next);
    } catch (e) {
      for (const t of next) t.dispose();
      throw e;
    }
    this.staged = next;
  }

  /** The second half of {@link apply}: installs the staged model. */
  commit(): void {
    const next = this.staged;
    if (next === undefined) throw new ValueError('commit() needs a staged model: call stage(aggregate) first');
    this.model.parameters().forEach((p, i) => (p.data = next[i]!));
    this.discard();
    this.releaseStart();
  }

  /** Drops a staged model without installing it. */
  discard(): void {
    for (const t of this.staged ?? []) t.dispose();
    this.staged = undefined;
  }

  /**
   * Puts the model back where the round started (undoing local training), so that after a failed
   * round every client is on the same model again. Nothing to do outside a round.
   */
  rollback(): void {
    this.discard();
    const start = this.start;
    if (start === undefined) return;
    this.model.parameters().forEach((p, i) => (p.data = start[i]!));
    this.releaseStart();
  }

  /** Frees what the client keeps on its worker (model, data). */
  dispose(): void {
    this.discard();
    this.releaseStart();
    this.model.dispose();
    for (const b of this.batches) {
      b.data.dispose();
      b.target.dispose();
    }
  }

  private requireStart(op: string): Tensor[] {
    if (this.start === undefined) throw new ValueError(`${op}() needs a round in progress: call train() first`);
    return this.start;
  }

  private releaseStart(): void {
    for (const t of this.start ?? []) t.dispose();
    this.start = undefined;
  }
}

/** Options of a {@link FedAvgServer}. */
export interface FedAvgServerOptions {
  /** The server's worker, where the uploads are added. It needs no key and sees no plaintext when clients encrypt. */
  readonly worker: RemoteWorker;
  readonly clients: readonly FedAvgClient[];
}

/** What one round did, and how long each part took (ms, wall clock). */
export interface RoundReport {
  readonly round: number;
  /** Mean training loss of the round, weighted by the clients' sizes. */
  readonly loss: number;
  readonly clientLosses: number[];
  readonly ms: { readonly train: number; readonly upload: number; readonly aggregate: number; readonly apply: number; readonly total: number };
}

/**
 * The FedAvg server: runs rounds, and adds the clients' uploads on its worker.
 *
 * @example
 * ```ts
 * const server = new sy.federated.FedAvgServer({ worker: serverWorker, clients });
 * for (let r = 0; r < 5; r++) console.log(await server.round());
 * ```
 */
export class FedAvgServer {
  readonly worker: RemoteWorker;
  readonly clients: readonly FedAvgClient[];
  private rounds = 0;

  constructor(options: FedAvgServerOptions) {
    if (typeof options.worker?.post !== 'function') throw new ValueError('FedAvgServer needs a worker');
    if (!Array.isArray(options.clients) || options.clients.length === 0) throw new ValueError('FedAvgServer needs at least one client');
    const ids = new Set(options.clients.map((c) => c.worker.id));
    if (ids.size !== options.clients.length) throw new ValueError('every client needs its own worker');
    if (ids.has(options.worker.id)) throw new ValueError('the server needs a worker of its own, apart from the clients');
    this.worker = options.worker;
    this.clients = [...options.clients];
  }

  /**
   * Runs one round (see the module documentation). If anything fails — a client's training,
   * encryption or decryption, the server's sum — every client goes back to the round's starting
   * model and the error is thrown: the clients never drift apart.
   */
  async round(): Promise<RoundReport> {
    const t0 = performance.now();
    const total = this.clients.reduce((n, c) => n + c.size, 0);
    let uploads: Tensor[][] = [];
    let aggregate: Tensor[] = [];
    try {
      const clientLosses: number[] = [];
      for (const c of this.clients) clientLosses.push(await c.train());
      const t1 = performance.now();

      uploads = this.clients.map((c) => c.upload(c.size / total));
      // Settle on the clients first, so an error there surfaces here instead of stalling a move.
      await Promise.all(uploads.map((u) => settled(u)));
      for (const u of uploads) for (const t of u) t.move(this.worker);
      const t2 = performance.now();

      aggregate = tidy(() => uploads.slice(1).reduce((acc, u) => acc.map((a, i) => a.add(u[i]!)), uploads[0]!));
      await settled(aggregate);
      const t3 = performance.now();

      // Each client gets its own copy of the sum, straight from the server's worker, and stages
      // its next model; only when all have succeeded do they install it.
      const outcomes = await Promise.allSettled(
        this.clients.map((c) => {
          const copies = aggregate.map((a) => a.copy().move(c.worker));
          return c.stage(copies).finally(() => copies.forEach((t) => t.dispose()));
        }),
      );
      const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
      if (failed !== undefined) throw failed.reason;
      for (const c of this.clients) c.commit();
      const t4 = performance.now();
      const loss = this.clients.reduce((s, c, i) => s + (c.size / total) * clientLosses[i]!, 0);
      return {
        round: ++this.rounds,
        loss,
        clientLosses,
        ms: { train: t1 - t0, upload: t2 - t1, aggregate: t3 - t2, apply: t4 - t3, total: t4 - t0 },
      };
    } catch (e) {
      for (const c of this.clients) c.rollback();
      throw e;
    } finally {
      for (const t of aggregate) t.dispose();
      for (const u of uploads) for (const t of u) t.dispose();
    }
  }
}

/**
 * What a worker answers when asked whether an object is ready: nothing but the fact. Storing one
 * fails when the object's own command failed, carrying that error back.
 */
export class Receipt {}

export const receiptCodec: Codec<Receipt> = {
  type: 'receipt',
  cls: Receipt,
  encode: () => ({ type: 'receipt' }),
  decode(node) {
    expectFields(node, []);
    return new Receipt();
  },
};

commands['federated.receipt'] = {
  results: 1,
  needsSelf: true,
  run: (_ctx, self) => {
    selfLayer(self);
    return new Receipt();
  },
};

/**
 * Waits until the workers have computed these remote tensors, rejecting with a worker's error if
 * one failed — without bringing any value here (each worker answers with an empty receipt).
 */
export async function settled(tensors: readonly Tensor[]): Promise<void> {
  await Promise.all(
    tensors.map(async (t) => {
      const c = t.child;
      if (!(c instanceof PointerTensor)) return;
      const receipt = c.command('federated.receipt', [], [[]])[0]!;
      const got: unknown = await receipt.get();
      if (!(got instanceof Receipt)) throw new ProtocolError(`worker '${c.location.id}' answered a receipt with something else`);
    }),
  );
}
