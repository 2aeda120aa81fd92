/**
 * Lesson 1: Federated Learning with a Trusted Aggregator.
 *
 * Bob and Alice each hold half of a toy dataset. Each trains a copy of the model on his or her
 * own data; the trained models are then moved to a secure worker, averaged there, and only the
 * average comes back. Neither Bob nor Alice sees the other's data, and we (the model owner)
 * only see the average.
 *
 *     npx tsx tutorials/01-trusted-aggregator.ts [--rounds 10] [--local-steps 10] [--lr 0.1] [--plot losses.svg]
 *
 * `--help` lists the flags. A line per round gives both losses and the time; `--plot` writes the
 * loss curves as an SVG file.
 */
import { writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import * as sy from '../src/index.js';

/** The command-line flags (`--help` prints them). */
export const flags = {
  rounds: { type: 'number', default: 10, integer: true, min: 1, max: 10_000, help: 'federated rounds (train locally, average on the secure worker)' },
  localSteps: { type: 'number', default: 10, integer: true, min: 1, max: 10_000, help: 'SGD steps Bob and Alice each take per round' },
  lr: { type: 'number', default: 0.1, min: 0, max: 10, help: 'learning rate of the local SGD' },
  plot: { type: 'optional-string', help: "write Bob's and Alice's loss per round to this SVG file" },
} as const satisfies Record<string, sy.utils.FlagSpec>;

export type Options = sy.utils.Flags<typeof flags> & { log: (s: string) => void };

export interface TrustedAggregatorResult {
  /** Bob's and Alice's last local loss in each round. */
  rounds: { bob: number; alice: number }[];
  /** The two trained models of the last round and their average, as computed on the secure worker. */
  last: {
    bobWeight: number[];
    aliceWeight: number[];
    bobBias: number[];
    aliceBias: number[];
    averageWeight: number[];
    averageBias: number[];
  };
}

export async function main(opts: Partial<Options> = {}): Promise<TrustedAggregatorResult> {
  const log = opts.log ?? console.log;
  const rounds = opts.rounds ?? flags.rounds.default;
  const localSteps = opts.localSteps ?? flags.localSteps.default;
  const lr = opts.lr ?? flags.lr.default;
  await sy.ready();
  sy.manualSeed(1);

  // Create a couple of workers.
  const bob = new sy.VirtualWorker({ id: 'bob' });
  const alice = new sy.VirtualWorker({ id: 'alice' });
  const secureWorker = new sy.VirtualWorker({ id: 'secure_worker' });
  bob.addWorkers([alice, secureWorker]);
  alice.addWorkers([bob, secureWorker]);
  secureWorker.addWorkers([alice, bob]);

  // A toy dataset.
  const data = sy.tensor([[0, 0], [0, 1], [1, 0], [1, 1]], { requiresGrad: true });
  const target = sy.tensor([[0], [0], [1], [1]], { requiresGrad: true });

  // Get pointers to training data on each worker by sending some training data to Bob and Alice.
  const bobsData = data.slice(0, 2).send(bob);
  const bobsTarget = target.slice(0, 2).send(bob);
  const alicesData = data.slice(2).send(alice);
  const alicesTarget = target.slice(2).send(alice);

  // Initialise a toy model.
  const model = new sy.nn.Linear(2, 1);

  // One local step: what the seed lesson writes out twice, once for Bob and once for Alice.
  const trainStep = async (m: sy.nn.Linear, opt: sy.optim.SGD, x: sy.Tensor, y: sy.Tensor): Promise<sy.Tensor> => {
    opt.zeroGrad();
    const pred = m.forward(x);
    const loss = pred.sub(y).pow(2).sum();
    loss.backward();
    opt.step();
    return (await loss.get()).data;
  };

  // A first look: one step each, and what a remote loss looks like before get().
  {
    const bobsModel = model.copy().send(bob);
    const bobsOpt = new sy.optim.SGD(bobsModel.parameters(), { lr });
    bobsOpt.zeroGrad();
    const bobsLoss = bobsModel.forward(bobsData).sub(bobsTarget).pow(2).sum();
    bobsLoss.backward();
    log(`bobs_loss after backward(): ${bobsLoss.toString()}`);
    bobsOpt.step();
    log(`Bob's first loss: ${(await bobsLoss.get()).data.toString()} (the loss is the only thing Bob sends us)`);
    bobsModel.dispose();
  }

  const result: TrustedAggregatorResult = { rounds: [], last: undefined as never };
  for (let round = 0; round < rounds; round++) {
    const started = performance.now();
    const bobsModel = model.copy().send(bob);
    const alicesModel = model.copy().send(alice);
    const bobsOpt = new sy.optim.SGD(bobsModel.parameters(), { lr });
    const alicesOpt = new sy.optim.SGD(alicesModel.parameters(), { lr });

    let bobsLoss!: sy.Tensor;
    let alicesLoss!: sy.Tensor;
    for (let i = 0; i < localSteps; i++) {
      bobsLoss = await trainStep(bobsModel, bobsOpt, bobsData, bobsTarget);
      alicesLoss = await trainStep(alicesModel, alicesOpt, alicesData, alicesTarget);
    }

    // Move both trained models to the secure worker: straight from Bob and Alice.
    bobsModel.move(secureWorker);
    alicesModel.move(secureWorker);
    if (round === 0) {
      // move() is lazy like every remote op: wait until the secure worker has received both models.
      await secureWorker.sync();
      log(
        `secure_worker holds ${secureWorker.objects.size} objects (both models' weights and biases; ` +
          `it sees the trained models, never the data); alices_model.weight is ${alicesModel.weight.toString()}`,
      );
    }

    // For the check below: copies of the trained models, taken before averaging.
    const isLast = round === rounds - 1;
    const trained = isLast
      ? await Promise.all([bobsModel.weight, alicesModel.weight, bobsModel.bias!, alicesModel.bias!].map(async (p) => (await p.copy().get()).arraySync()))
      : [];

    // The secure worker averages; only the average comes back.
    model.weight.data = await alicesModel.weight.data.add(bobsModel.weight.data).div(2).get();
    model.bias!.data = await alicesModel.bias!.data.add(bobsModel.bias!.data).div(2).get();

    secureWorker.clearObjects();

    result.rounds.push({ bob: bobsLoss.item(), alice: alicesLoss.item() });
    log(
      sy.utils.epochLine({ epoch: round + 1, epochs: rounds, bobLoss: bobsLoss.item(), aliceLoss: alicesLoss.item(), seconds: (performance.now() - started) / 1000 })
        .replace(/^epoch/, 'round'),
    );
    if (isLast) {
      const [bw, aw, bb, ab] = trained as number[][][];
      result.last = {
        bobWeight: bw!.flat(),
        aliceWeight: aw!.flat(),
        bobBias: bb as unknown as number[],
        aliceBias: ab as unknown as number[],
        averageWeight: (model.weight.arraySync() as number[][]).flat(),
        averageBias: model.bias!.arraySync() as number[],
      };
    }
  }
  if (opts.plot) {
    writeFileSync(opts.plot, lossPlot(result.rounds, 'Tutorial 01: local loss per round (trusted aggregator)'));
    log(`wrote ${opts.plot}`);
  }
  return result;
}

/** The SVG of Bob's and Alice's last local loss in each round. */
export function lossPlot(rounds: readonly { bob: number; alice: number }[], title: string): string {
  return sy.utils.linePlot(
    [
      { name: 'Bob', values: rounds.map((r) => r.bob) },
      { name: 'Alice', values: rounds.map((r) => r.alice) },
    ],
    { title, xLabel: 'round', yLabel: 'loss (sum of squared errors)' },
  );
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const o = sy.utils.flagsOrExit(flags, 'npx tsx tutorials/01-trusted-aggregator.ts', 'Federated learning with a trusted aggregator: Bob and Alice train copies, a secure worker averages them.');
  await main(o);
}
