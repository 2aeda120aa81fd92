// Data loading figures: what a batch of 64 MNIST digits costs from a FederatedDataLoader over two
// virtual workers (made on the workers: one gather per tensor; federate applied PySyft's Normalize
// before sending) and from a local DataLoader (Normalize per batch); and the indexSelect kernel (a
// JavaScript gather) against tfjs's gather and against a float slice, interleaved in one process.
import * as tf from '@tensorflow/tfjs-core';
import * as sy from '../src/index.js';
import { SeededRandom } from '../src/util/seeded.js';
import { summarize, type Harness } from './harness.js';

const BATCH = 64;
const ITEMS = 6000;

async function epochMs(loader: Iterable<sy.Sample>, workers: sy.VirtualWorker[]): Promise<number> {
  const t0 = performance.now();
  let n = 0;
  for (const [x, y] of loader) {
    x.dispose();
    y.dispose();
    n++;
  }
  // The batches are made on the workers: wait until they have run every command.
  await Promise.all(workers.map((w) => w.sync()));
  return (performance.now() - t0) / n;
}

export async function run(h: Harness): Promise<void> {
  await sy.ready();
  const train = await sy.datasets.mnist({ count: ITEMS, normalize: true });
  const workers = [new sy.VirtualWorker({ id: 'bob' }), new sy.VirtualWorker({ id: 'alice' })];
  const federated = train.federate(workers);
  for (const shuffle of [true, false]) {
    const loader = new sy.FederatedDataLoader(federated, { batchSize: BATCH, shuffle, seed: 1 });
    const samples: number[] = [];
    for (let e = 0; e < 6; e++) samples.push(await epochMs(loader, workers));
    h.record({
      name: `FederatedDataLoader, ${ITEMS} digits on 2 virtual workers, batch ${BATCH}, normalize${shuffle ? ', shuffled' : ''}`,
      unit: 'ms/batch',
      reps: samples.length - 1,
      ...summarize(samples.slice(1)),
    });
  }
  const local = new sy.DataLoader(train, { batchSize: BATCH, shuffle: true, seed: 1 });
  const samples: number[] = [];
  for (let e = 0; e < 6; e++) samples.push(await epochMs(local, []));
  h.record({ name: `DataLoader, ${ITEMS} local digits, batch ${BATCH}, normalize, shuffled`, unit: 'ms/batch', reps: 5, ...summarize(samples.slice(1)) });

  // The kernel: 64 random rows of [6000, 1, 28, 28], JavaScript gather vs tf.gather, A/B rounds.
  const data = train.data.child as sy.FloatTensor;
  const rng = new SeededRandom(2);
  const rows = () => Int32Array.from({ length: BATCH }, () => Math.floor(rng.next() * ITEMS));
  const js = () => data.indexSelect(0, rows());
  const viaTf = () =>
    tf.tidy(() => {
      const out = tf.gather(data.toTf(), tf.tensor1d(rows(), 'int32'), 0);
      return out.dataSync();
    });
  abRounds(h, `indexSelect 64 of [${ITEMS}, 1, 28, 28]: JavaScript gather`, js, `tf.gather of the same (${tf.getBackend()} backend)`, viaTf);

  // Why loaders gather even consecutive rows: a float slice hands the whole tensor to tfjs.
  const half = data.slice(0, ITEMS / 2) as sy.FloatTensor;
  const first = Int32Array.from({ length: BATCH }, (_, i) => i);
  abRounds(h, `rows 0-63 of [${ITEMS / 2}, 1, 28, 28]: indexSelect`, () => half.indexSelect(0, first), 'slice(0, 64) of the same', () => half.slice(0, BATCH));
}

/** A against B in alternating rounds of 50 calls (the first round a warm-up): both times and B / A per round. */
function abRounds(h: Harness, nameA: string, a: () => unknown, nameB: string, b: () => unknown): void {
  const ta: number[] = [];
  const tb: number[] = [];
  const ratios: number[] = [];
  for (let round = 0; round < 7; round++) {
    const t0 = performance.now();
    for (let i = 0; i < 50; i++) a();
    const t1 = performance.now();
    for (let i = 0; i < 50; i++) b();
    const t2 = performance.now();
    if (round === 0) continue;
    ta.push((t1 - t0) / 50);
    tb.push((t2 - t1) / 50);
    ratios.push((t2 - t1) / (t1 - t0));
  }
  h.record({ name: nameA, unit: 'ms', reps: ta.length, ...summarize(ta) });
  h.record({ name: nameB, unit: 'ms', reps: tb.length, ...summarize(tb) });
  h.record({ name: '  second / first, per interleaved round', unit: 'x', reps: ratios.length, ...summarize(ratios) });
}
