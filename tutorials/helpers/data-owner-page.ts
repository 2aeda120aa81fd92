// The data owner's script of tutorial 13, bundled for the browser (page-parties.ts) and run in
// each headless page: it loads its own slice of real MNIST digits inside the page, joins the
// model owner's coordinator as a computing party (an OutboundWorker: a page cannot listen), and
// publishes the digits for computation by pointer. Published data cannot be fetched, moved or
// changed from outside; only what the parties compute from it (shares) leaves the page.
import * as sy from '../../src/browser.js';
import { partRows } from './parts.js';

/** What the model owner asks of a page (all of it public: no data crosses in the clear). */
export interface DataOwnerJob {
  coordinatorUrl: string;
  id: string;
  token: string;
  /** Digits drawn for the whole run (one seeded shuffle); this page keeps part `part` of `parts`. */
  train: number;
  test: number;
  seed: number;
  part: number;
  parts: number;
}

/** What the page says about itself: counts, never a value. */
export interface DataOwnerReport {
  id: string;
  trainRows: number;
  testRows: number;
  /** Objects in the page's worker (its published digits, the shares it holds, temporaries). */
  objects: number;
  /** What left the page, by kind of connection (bytes and syft messages). */
  traffic: sy.WorkerTraffic;
  peers: string[];
  backend: string;
}

let worker: sy.OutboundWorker | undefined;
let rows = { train: 0, test: 0 };
let backend = '';

async function join(job: DataOwnerJob): Promise<DataOwnerReport> {
  if (worker) throw new sy.StateError(`this page already joined as '${worker.id}'`);
  backend = (await sy.ready({ wasmPaths: '/wasm/' })).backend;
  worker = await sy.OutboundWorker.join(job.coordinatorUrl, { id: job.id, token: job.token });
  if (job.train + job.test === 0) return report(); // a party holding no data of its own (benchmarks)
  // The digits are read here, in the page: MNIST's files, fetched from the page's own site.
  const { train, test } = await sy.datasets.loadMnist({ train: job.train, test: job.test, seed: job.seed, files: '/mnist/' });
  const normalize = (v: Float32Array) => v.map((p) => (p - sy.datasets.MNIST_MEAN) / sy.datasets.MNIST_STD);
  const [ts, te] = partRows(train.count, job.part, job.parts);
  const [vs, ve] = partRows(test.count, job.part, job.parts);
  worker.publish('#train-images', sy.tensor(normalize(train.images.subarray(ts * 784, te * 784)), { shape: [te - ts, 784] }));
  worker.publish('#train-targets', sy.tensor(sy.datasets.oneHot(train.labels.subarray(ts, te)), { shape: [te - ts, 10] }));
  worker.publish('#test-images', sy.tensor(normalize(test.images.subarray(vs * 784, ve * 784)), { shape: [ve - vs, 784] }));
  worker.publish('#test-labels', sy.tensor(Float32Array.from(test.labels.subarray(vs, ve)), { shape: [ve - vs] }));
  rows = { train: te - ts, test: ve - vs };
  return report();
}

function report(): DataOwnerReport {
  if (!worker) throw new sy.StateError('this page has not joined a coordinator yet');
  return { id: worker.id, trainRows: rows.train, testRows: rows.test, objects: worker.objectCount, traffic: worker.traffic(), peers: worker.linkedPeers, backend };
}

(globalThis as { dataOwner?: unknown }).dataOwner = { join, report };
(globalThis as { dataOwnerLoaded?: boolean }).dataOwnerLoaded = true;
