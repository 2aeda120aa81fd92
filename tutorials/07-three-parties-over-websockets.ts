/**
 * Lesson 7: three kinds of party over the network — data owners, a model owner and a facilitator.
 *
 * The seed's scenario: data owners (here two estate agencies) hold records that nobody else may
 * see, not even each other; a model owner wants a model trained on all of them (the seed's
 * default: a linear regression); a facilitator helps without seeing the data or the gradients.
 * Each party is its own process, on loopback here and on its own machine in real life:
 *
 *     launcher (this script)  starts the three workers and the model owner, relays what the model
 *                             owner prints, stops everything at the end. It writes the token
 *                             files (an administrator's job) and sees nothing else.
 *     agency_a, agency_b      data owners: `WebsocketServerWorker`s that load their own records
 *                             and publish them (`worker.publish('#houses', x)`); they are also
 *                             the two computing parties, each holding one share of everything.
 *     facilitator             a plain `syft-ts worker`: the crypto provider, dealing the
 *                             correlated randomness (Beaver triples, comparison material).
 *     model owner             the orchestrator: finds the data with `search()`, shares its model
 *                             between the agencies, runs the training, and gets the model back.
 *
 * Who sees what:
 *   - an agency sees its own records; everything else it holds or receives (the other agency's
 *     records, the weights, the gradients, the updates, the masked values of the protocols) is
 *     a share or a masked value: uniformly random on its own.
 *   - the facilitator sees commands (shapes and protocol session ids) and its own randomness;
 *     nobody sends it a value (the final JSON counts the bytes it received from peers: zero).
 *   - the model owner sees its initial model, one loss figure per epoch (revealed on purpose),
 *     the final training cost and the trained model. It never sees a record, a gradient or an
 *     update: that is stricter than the seed, where the model owner sees the gradients.
 * The seed hid the gradients with Paillier (tutorial 08 does that); then the data owners need
 * the model in the clear. With secret sharing nobody sees the model while it trains.
 *
 * Trust: honest-but-curious parties, as PySyft's SMPC assumes. The model owner chooses the
 * commands; the agencies refuse to let their published records be fetched, moved or changed, but
 * a deployment that distrusts the model owner needs a policy on the commands the agencies run
 * (what may be computed from their data and revealed). The workers authenticate every
 * connection with a token, and the agencies each other with tickets the model owner derives.
 *
 * The training step is a plan (PySyft's Part 8): traced once by the model owner, it then runs with
 * one message to each agency and one to the facilitator per batch, instead of one per command
 * (`--plans=false` sends it op by op, to compare).
 *
 *     npx tsx tutorials/07-three-parties-over-websockets.ts [--rows 500] [--epochs 10] [--batch 50]
 *         [--lr 0.1] [--seed 1] [--plans=false]
 *
 * It prints progress per epoch and ends with one JSON line of figures.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import * as sy from '../src/index.js';

const { privateBatches } = sy.federated;
const { randomHex, SeededRandom } = sy.utils;
const { readTokenFile, startWorkerProcess } = sy;
type WorkerProcess = sy.WorkerProcess;

export interface Options {
  /** Records per agency. */
  rows: number;
  epochs: number;
  batch: number;
  lr: number;
  seed: number;
  /** Run the training step as a plan (default true). */
  plans: boolean;
  log: (line: string) => void;
}

export const defaults: Options = { rows: 500, epochs: 10, batch: 50, lr: 0.1, seed: 1, plans: true, log: console.log };

/** The features of a house, in standard units, and what its price (in 100k) depends on. */
export const FEATURES = ['area', 'rooms', 'age', 'distance'] as const;
export const TRUE_WEIGHTS = [1.5, 0.5, -0.7, -1.1];
export const TRUE_BIAS = 3;
const NOISE = 0.1;

/** What one process's connections carried during training, per batch. */
interface RoleTraffic {
  /** Bytes this party sent to the others (values over peer links; replies to the model owner). */
  bytesSent: number;
  /** Bytes other parties sent it (protocol values over their peer links). */
  bytesFromPeers: number;
  /** Bytes of commands the model owner sent it. */
  bytesFromModelOwner: number;
}

export interface Result {
  rowsPerAgency: number;
  epochs: number;
  batchSize: number;
  batchesPerEpoch: number;
  /** Mean loss of each epoch, as revealed to the model owner. */
  loss: number[];
  /** Mean squared error of the trained model on all records, computed on shares. */
  finalCost: number;
  weights: number[];
  bias: number;
  trueWeights: number[];
  trueBias: number;
  /** Predictions of the trained model for the model owner's three example houses. */
  predictions: number[];
  msPerBatch: number;
  /** Whether the training step ran as a plan. */
  plans: boolean;
  /** Commands in each agency's part of the step: the messages a batch takes op by op. */
  commandsPerBatch: number;
  /** Bytes sent over all connections per training batch. */
  bytesPerBatch: number;
  traffic: Record<'agency_a' | 'agency_b' | 'facilitator', RoleTraffic> & {
    /**
     * What the model owner sent (commands) and received (replies, and the workers'
     * acknowledgements), per batch; and how many messages it received during the whole training.
     */
    modelOwner: { bytesSent: number; bytesReceived: number; messagesReceived: number };
  };
  processes: number;
  seconds: number;
}

// ---- the data owners -------------------------------------------------------------------------

/** An agency's own records: the same law for both agencies, different houses. */
export function agencyRecords(rows: number, seed: number): { x: Float32Array; y: Float32Array } {
  const rng = new SeededRandom(seed);
  const x = new Float32Array(rows * FEATURES.length);
  const y = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    let price = TRUE_BIAS + NOISE * rng.normal();
    for (let f = 0; f < FEATURES.length; f++) {
      const v = rng.normal();
      x[r * FEATURES.length + f] = v;
      price += TRUE_WEIGHTS[f]! * v;
    }
    y[r] = price;
  }
  return { x, y };
}

async function runDataOwner(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: { id: { type: 'string' }, 'token-file': { type: 'string' }, rows: { type: 'string' }, seed: { type: 'string' } },
  });
  await sy.ready();
  const worker = await sy.WebsocketServerWorker.start({ id: values.id!, token: readTokenFile(values['token-file']!), timeoutMs: 30_000 });
  // In real life the agency reads its own database here.
  const rows = Number(values.rows);
  const { x, y } = agencyRecords(rows, Number(values.seed));
  worker.publish('#houses', sy.tensor(x, { shape: [rows, FEATURES.length] }));
  worker.publish('#prices', sy.tensor(y, { shape: [rows, 1] }));
  process.stdout.write(`syft-ts worker '${worker.id}' listening on ${worker.url}\n`);
  process.on('SIGTERM', () => void worker.close().then(() => process.exit(0)));
}

// ---- the model owner -------------------------------------------------------------------------

interface Peer {
  id: string;
  url: string;
  tokenFile: string;
}

async function runModelOwner(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { workers: { type: 'string' }, options: { type: 'string' } } });
  const peers = JSON.parse(values.workers!) as Peer[];
  const o = JSON.parse(values.options!) as Omit<Options, 'log'>;
  const log = (line: string) => process.stdout.write(`${line}\n`);
  await sy.ready();
  const connect = (p: Peer) => sy.WebsocketClientWorker.connect(p.url, { id: p.id, token: readTokenFile(p.tokenFile), timeoutMs: 120_000 });
  const [agencyA, agencyB, facilitator] = await Promise.all(peers.map(connect)) as [sy.WebsocketClientWorker, sy.WebsocketClientWorker, sy.WebsocketClientWorker];
  const agencies = [agencyA, agencyB];
  const all = [agencyA, agencyB, facilitator];

  // The agencies' records, by pointer: they never leave the agencies.
  const owners = await Promise.all(
    agencies.map(async (a) => {
      const [data] = await a.search('#houses');
      const [target] = await a.search('#prices');
      if (!data || !target) throw new sy.ValueError(`worker '${a.id}' publishes no '#houses' and '#prices'`);
      log(`found ${data.shape[0]} records on ${a.id}: ${data.toString().split('\n')[0]}`);
      return { data, target };
    }),
  );
  // Each agency cuts its records into batches and shares every batch between the two agencies.
  const batches = privateBatches(owners, { parties: agencies, cryptoProvider: facilitator, batchSize: o.batch, precisionFractional: 3 });

  // The model owner's model, shared between the agencies too.
  sy.manualSeed(o.seed);
  const model = new sy.nn.Linear(FEATURES.length, 1);
  model.fixPrecision().share(...agencies, { cryptoProvider: facilitator, requiresGrad: true });
  const optimizer = new sy.optim.SGD(model.parameters(), { lr: o.lr }).fixPrecision();
  log(`training a linear regression on ${batches.length} private batches per epoch, shared between ${agencies.map((a) => a.id).join(' and ')}`);

  // The training step, traced once as a plan: each batch then takes one message per agency and
  // one to the facilitator (the trace also introduces the agencies to each other, once).
  const step = (data: sy.Tensor, target: sy.Tensor) => {
    optimizer.zeroGrad();
    const out = model.forward(data).sub(target).pow(2).sum().div(data.shape[0]!);
    out.backward();
    optimizer.step();
    return out;
  };
  const plan = sy.func2plan(step, { name: 'trainStep' }).build(batches[0]!.data, batches[0]!.target);
  const commandsPerBatch = plan.commandCounts[agencyA.id]!;
  if (o.plans) {
    plan.send();
    log(
      `training step traced as a plan: ${commandsPerBatch} commands for each agency, sent as one message to each agency ` +
        `and one to the facilitator per batch (op by op: ${commandsPerBatch} messages to each agency)`,
    );
  }

  // Counters before and after training; this process's own are read so that the stats requests'
  // replies fall outside the window.
  const stats = () => Promise.all(all.map((c) => c.workerStats()));
  const mine = () => all.map((c) => ({ ...c.traffic }));
  await Promise.all(all.map((c) => c.sync()));
  const start = { theirs: await stats(), mine: mine() };
  const loss: number[] = [];
  let trainMs = 0;
  for (let epoch = 1; epoch <= o.epochs; epoch++) {
    const t0 = performance.now();
    let sum = 0;
    for (const { data, target } of batches) {
      const l = o.plans ? (plan(data, target) as sy.Tensor) : sy.tidy(() => step(data, target));
      sum += (await l.get()).floatPrecision().item();
    }
    const ms = performance.now() - t0;
    trainMs += ms;
    loss.push(sum / batches.length);
    log(`Epoch ${epoch}/${o.epochs}: loss ${loss.at(-1)!.toFixed(4)} (${(ms / 1000).toFixed(2)} s, ${(ms / batches.length).toFixed(1)} ms per batch)`);
  }
  const end = { mine: mine(), theirs: await stats() };

  // The final cost on all records, computed on shares: only the number is revealed.
  const costShared = sy.tidy(() =>
    sy.noGrad(() => {
      let total: sy.Tensor | undefined;
      for (const { data, target } of batches) {
        const s = model.forward(data).sub(target).pow(2).sum();
        total = total ? total.add(s) : s;
      }
      return total!;
    }),
  );
  const records = batches.reduce((n, b) => n + b.size, 0);
  const finalCost = (await costShared.get()).floatPrecision().item() / records;
  log(`final cost (mean squared error on all ${records} records): ${finalCost.toFixed(4)}`);

  // The trained model comes back to its owner.
  await model.get();
  model.floatPrecision();
  const weights = [...(model.weight.arraySync() as number[][])[0]!];
  const bias = (model.bias!.arraySync() as number[])[0]!;
  log(`trained model: price = ${weights.map((w, i) => `${w.toFixed(3)}*${FEATURES[i]}`).join(' + ')} + ${bias.toFixed(3)}`);
  const examples = sy.tensor([[1, 1, 0, -1], [0, 0, 0, 0], [-0.5, 0, 1, 0.5]]);
  const predictions = [...(model.forward(examples).arraySync() as number[][]).map((r) => r[0]!)];
  log(`predicted prices for three houses: ${predictions.map((p) => p.toFixed(2)).join(', ')}`);

  // Traffic during training, per batch, by process.
  const nb = o.epochs * batches.length;
  const perBatch = (v: number) => Math.round(v / nb);
  const traffic = {} as Result['traffic'];
  let total = 0;
  all.forEach((c, k) => {
    const [a, b] = [end.theirs[k]!.traffic, start.theirs[k]!.traffic];
    const sent = a.clients.bytesSent + a.peers.bytesSent + a.links.bytesSent - (b.clients.bytesSent + b.peers.bytesSent + b.links.bytesSent);
    total += sent;
    (traffic as unknown as Record<string, RoleTraffic>)[c.id] = {
      bytesSent: perBatch(sent),
      bytesFromPeers: perBatch(a.peers.bytesReceived - b.peers.bytesReceived),
      bytesFromModelOwner: perBatch(a.clients.bytesReceived - b.clients.bytesReceived),
    };
  });
  const mineSent = all.reduce((s, _, k) => s + end.mine[k]!.bytesSent - start.mine[k]!.bytesSent, 0);
  const mineReceived = all.reduce((s, _, k) => s + end.mine[k]!.bytesReceived - start.mine[k]!.bytesReceived, 0);
  const repliesReceived = all.reduce((s, _, k) => s + end.mine[k]!.messagesReceived - start.mine[k]!.messagesReceived, 0);
  traffic.modelOwner = { bytesSent: perBatch(mineSent), bytesReceived: perBatch(mineReceived), messagesReceived: repliesReceived };
  total += mineSent;

  const result: Omit<Result, 'processes' | 'seconds'> = {
    rowsPerAgency: o.rows,
    epochs: o.epochs,
    batchSize: o.batch,
    batchesPerEpoch: batches.length,
    loss,
    finalCost,
    weights,
    bias,
    trueWeights: TRUE_WEIGHTS,
    trueBias: TRUE_BIAS,
    predictions,
    msPerBatch: trainMs / nb,
    plans: o.plans,
    commandsPerBatch,
    bytesPerBatch: perBatch(total),
    traffic,
  };
  await Promise.all(all.map((c) => c.close()));
  log(JSON.stringify(result));
}

// ---- the launcher ----------------------------------------------------------------------------

const here = fileURLToPath(import.meta.url);

/** Runs this file in another role, in a child process, handing each line it prints to `onLine`. */
function spawnRole(role: string, args: string[], onLine: (line: string) => void): { child: ChildProcess; exited: Promise<number | null> } {
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  const child = spawn(process.execPath, ['--import', tsx, here, '--role', role, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  createInterface({ input: child.stdout! }).on('line', onLine);
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { child, exited };
}

async function startDataOwner(id: string, tokenFile: string, rows: number, seed: number): Promise<WorkerProcess> {
  let resolveUrl!: (url: string) => void;
  const listening = new Promise<string>((r) => (resolveUrl = r));
  const { child, exited } = spawnRole('data-owner', ['--id', id, '--token-file', tokenFile, '--rows', String(rows), '--seed', String(seed)], (line) => {
    const m = /listening on (wss?:\/\/\S+)/.exec(line);
    if (m) resolveUrl(m[1]!);
  });
  const url = await Promise.race([
    listening,
    exited.then((code) => {
      throw new sy.ProtocolError(`data owner '${id}' exited (code ${code}) before listening`);
    }),
  ]);
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    return exited;
  };
  return { id, url, child, exited, stop };
}

export async function main(partial: Partial<Options> = {}): Promise<Result> {
  const o: Options = { ...defaults, ...partial };
  const { log, ...opts } = o;
  const t0 = performance.now();
  // One token per worker, in files only their owner (and the model owner) can read.
  const dir = mkdtempSync(join(tmpdir(), 'syft-lesson7-'));
  const tokenFile = (id: string) => {
    const f = join(dir, `${id}.token`);
    writeFileSync(f, `${randomHex(32)}\n`, { mode: 0o600 });
    return f;
  };
  const ids = ['agency_a', 'agency_b', 'facilitator'] as const;
  const files = Object.fromEntries(ids.map((id) => [id, tokenFile(id)])) as Record<(typeof ids)[number], string>;
  const workers: WorkerProcess[] = [];
  try {
    workers.push(
      ...(await Promise.all([
        startDataOwner('agency_a', files.agency_a, o.rows, o.seed * 1000 + 1),
        startDataOwner('agency_b', files.agency_b, o.rows, o.seed * 1000 + 2),
        startWorkerProcess({ id: 'facilitator', tokenFile: files.facilitator, timeoutMs: 30_000 }),
      ])),
    );
    for (const w of workers) log(`started ${w.id} (process ${w.child.pid}) on ${w.url}`);
    const peers: Peer[] = workers.map((w) => ({ id: w.id, url: w.url, tokenFile: files[w.id as (typeof ids)[number]] }));
    let last = '';
    const owner = spawnRole('model-owner', ['--workers', JSON.stringify(peers), '--options', JSON.stringify(opts)], (line) => {
      if (last) log(last);
      last = line;
    });
    log(`started the model owner (process ${owner.child.pid})`);
    const code = await owner.exited;
    if (code !== 0) throw new sy.ProtocolError(`the model owner exited with code ${code}: ${last}`);
    const figures = JSON.parse(last) as Omit<Result, 'processes' | 'seconds'>;
    const result: Result = { ...figures, processes: workers.length + 1, seconds: (performance.now() - t0) / 1000 };
    log(JSON.stringify(result));
    return result;
  } finally {
    await Promise.all(workers.map((w) => w.stop()));
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The command-line flags (`--help` prints them); defaults are {@link defaults}. */
export const flags = {
  rows: { type: 'number', default: defaults.rows, integer: true, min: 1, max: 1_000_000, help: 'house records each agency holds' },
  epochs: { type: 'number', default: defaults.epochs, integer: true, min: 1, max: 10_000, help: 'passes over the records' },
  batch: { type: 'number', default: defaults.batch, integer: true, min: 1, max: 1_000_000, help: 'records per batch' },
  lr: { type: 'number', default: defaults.lr, min: 0, max: 100, help: 'learning rate of the SGD' },
  seed: { type: 'number', default: defaults.seed, integer: true, min: 0, max: 2 ** 31, help: "seed of the agencies' synthetic records" },
  plans: { type: 'boolean', default: defaults.plans, help: 'train with plans: each step traced once, then one message per party (--plans=false runs it op by op)' },
} as const satisfies Record<string, sy.utils.FlagSpec>;

const COMMAND = 'npx tsx tutorials/07-three-parties-over-websockets.ts';

/** Parses the command line (`--name value` or `--name=value`); throws a FlagError on a bad flag, undefined on --help. */
export function parseFlags(argv: readonly string[]): Partial<Options> | undefined {
  return sy.utils.parseFlags(flags, argv, COMMAND);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const argv = process.argv.slice(2);
  if (argv[0] === '--role') {
    const role = argv[1];
    if (role === 'data-owner') await runDataOwner(argv.slice(2));
    else if (role === 'model-owner') await runModelOwner(argv.slice(2));
    else throw new sy.ValueError(`unknown role '${role}': data-owner or model-owner`);
  } else {
    await main(sy.utils.flagsOrExit(flags, COMMAND, 'Linear regression on two agencies\' private records, with the parties in separate processes over WebSockets.'));
  }
}
