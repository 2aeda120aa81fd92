/**
 * Final project: Federated Learning with Encrypted Gradient Aggregation.
 *
 * Bob and Alice train copies of the model on their own data, as in lesson 1. Instead of
 * trusting a secure worker with their models, each of them turns its model into fixed
 * precision and secret-shares it among Bob, Alice and the secure worker — each splits its own
 * model, so nobody else sees it. The shared models are summed on the shares, and only the sum
 * (hence the average) is revealed to us. As the lesson asks us to point out: the average
 * itself is in the clear.
 *
 *     npx tsx tutorials/05-federated-learning-encrypted-aggregation.ts [--rounds 10] [--local-steps 10]
 *         [--lr 0.1] [--precision 3] [--plot losses.svg]
 *
 * `--help` lists the flags. A line per round gives both losses and the time; `--plot` writes the
 * loss curves as an SVG file.
 */
import { writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import * as sy from '../src/index.js';
import { lossPlot } from './01-trusted-aggregator.js';

/** The command-line flags (`--help` prints them). */
export const flags = {
  rounds: { type: 'number', default: 10, integer: true, min: 1, max: 10_000, help: 'federated rounds (train locally, sum the shared models)' },
  localSteps: { type: 'number', default: 10, integer: true, min: 1, max: 10_000, help: 'SGD steps Bob and Alice each take per round' },
  lr: { type: 'number', default: 0.1, min: 0, max: 10, help: 'learning rate of the local SGD' },
  precision: { type: 'number', default: 3, integer: true, min: 1, max: 8, help: 'decimal digits of the fixed-precision models that are shared' },
  plot: { type: 'optional-string', help: "write Bob's and Alice's loss per round to this SVG file" },
} as const satisfies Record<string, sy.utils.FlagSpec>;

export type Options = sy.utils.Flags<typeof flags> & { verify: boolean; log: (s: string) => void };

export interface EncryptedAggregationResult {
  rounds: { bob: number; alice: number }[];
  /** Only with `verify`: the two trained models of the last round and the revealed average. */
  check?: { bob: number[]; alice: number[]; average: number[] };
}

export async function main(opts: Partial<Options> = {}): Promise<EncryptedAggregationResult> {
  const log = opts.log ?? console.log;
  const rounds = opts.rounds ?? flags.rounds.default;
  const localSteps = opts.localSteps ?? flags.localSteps.default;
  const lr = opts.lr ?? flags.lr.default;
  const fp = { precisionFractional: opts.precision ?? flags.precision.default };
  await sy.ready();
  sy.manualSeed(1);
  const bob = new sy.VirtualWorker({ id: 'bob' });
  const alice = new sy.VirtualWorker({ id: 'alice' });
  const secureWorker = new sy.VirtualWorker({ id: 'secure_worker' });

  const data = sy.tensor([[0, 0], [0, 1], [1, 0], [1, 1]]);
  const target = sy.tensor([[0], [0], [1], [1]]);
  const bobsData = data.slice(0, 2).send(bob);
  const bobsTarget = target.slice(0, 2).send(bob);
  const alicesData = data.slice(2).send(alice);
  const alicesTarget = target.slice(2).send(alice);

  const model = new sy.nn.Linear(2, 1);
  const result: EncryptedAggregationResult = { rounds: [] };

  const train = async (m: sy.nn.Linear, x: sy.Tensor, y: sy.Tensor): Promise<number> => {
    const opt = new sy.optim.SGD(m.parameters(), { lr });
    let last = 0;
    for (let i = 0; i < localSteps; i++) {
      const loss = sy.tidy(() => {
        opt.zeroGrad();
        const l = m.forward(x).sub(y).pow(2).sum();
        l.backward();
        opt.step();
        return l;
      });
      last = (await loss.get()).item();
    }
    return last;
  };

  for (let round = 0; round < rounds; round++) {
    const started = performance.now();
    const bobsModel = model.copy().send(bob);
    const alicesModel = model.copy().send(alice);
    const bobLoss = await train(bobsModel, bobsData, bobsTarget);
    const aliceLoss = await train(alicesModel, alicesData, alicesTarget);

    const isLast = round === rounds - 1;
    // For the tests only: peek at the individual models. The protocol below never does.
    const peek = isLast && opts.verify
      ? await Promise.all([bobsModel, alicesModel].map(async (m) => Promise.all(m.parameters().map(async (p) => (await p.copy().get()).arraySync()))))
      : undefined;

    // Each worker fixes and shares its own model among the three workers.
    bobsModel.fixPrecision(fp).share(bob, alice, secureWorker);
    alicesModel.fixPrecision(fp).share(bob, alice, secureWorker);
    if (round === 0) {
      log(`Bob's shared weight: ${bobsModel.weight.toString()}`);
      log('each of bob, alice and secure_worker now holds one random share of each model: no one of them can read either model');
    }

    // Sum on the shares; only the sum comes back, and we divide it in the clear.
    const average: number[] = [];
    const params = model.parameters();
    for (let i = 0; i < params.length; i++) {
      const sum = bobsModel.parameters()[i]!.add(alicesModel.parameters()[i]!);
      const mean = (await sum.get()).floatPrecision().div(2);
      params[i]!.data = mean;
      average.push(...([mean.arraySync()].flat(2) as number[]));
    }
    result.rounds.push({ bob: bobLoss, alice: aliceLoss });
    log(
      sy.utils.epochLine({ epoch: round + 1, epochs: rounds, bobLoss, aliceLoss, seconds: (performance.now() - started) / 1000 })
        .replace(/^epoch/, 'round') + '  (revealed to us: the two losses and the averaged model)',
    );
    if (peek) result.check = { bob: peek[0]!.flat(2) as number[], alice: peek[1]!.flat(2) as number[], average };
  }
  if (opts.plot) {
    writeFileSync(opts.plot, lossPlot(result.rounds, 'Tutorial 05: local loss per round (encrypted aggregation)'));
    log(`wrote ${opts.plot}`);
  }
  return result;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const o = sy.utils.flagsOrExit(
    flags,
    'npx tsx tutorials/05-federated-learning-encrypted-aggregation.ts',
    'Federated learning where the models are averaged on secret shares and only the average is revealed.',
  );
  await main(o);
}
