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
 *     npx tsx tutorials/05-federated-learning-encrypted-aggregation.ts
 */
import { pathToFileURL } from 'node:url';
import * as sy from '../src/index.js';

export interface EncryptedAggregationResult {
  rounds: { bob: number; alice: number }[];
  /** Only with `verify`: the two trained models of the last round and the revealed average. */
  check?: { bob: number[]; alice: number[]; average: number[] };
}

export async function main(
  opts: { rounds?: number; localSteps?: number; verify?: boolean; log?: (s: string) => void } = {},
): Promise<EncryptedAggregationResult> {
  const log = opts.log ?? console.log;
  const rounds = opts.rounds ?? 10;
  const localSteps = opts.localSteps ?? 10;
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
    const opt = new sy.optim.SGD(m.parameters(), { lr: 0.1 });
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
    bobsModel.fixPrecision().share(bob, alice, secureWorker);
    alicesModel.fixPrecision().share(bob, alice, secureWorker);
    if (round === 0) log(`Bob's shared weight: ${bobsModel.weight.toString()}`);

    // Sum on the shares; only the sum comes back, and we divide it in the clear.
    const average: number[] = [];
    const params = model.parameters();
    for (let i = 0; i < params.length; i++) {
      const sum = bobsModel.parameters()[i]!.add(alicesModel.parameters()[i]!);
      const mean = (await sum.get()).floatPrecision().div(2);
      params[i]!.data = mean;
      average.push(...([mean.arraySync()].flat(2) as number[]));
    }
    log(`Bob: ${bobLoss.toFixed(4)} Alice: ${aliceLoss.toFixed(4)}`);
    result.rounds.push({ bob: bobLoss, alice: aliceLoss });
    if (peek) result.check = { bob: peek[0]!.flat(2) as number[], alice: peek[1]!.flat(2) as number[], average };
  }
  return result;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await main();
}
