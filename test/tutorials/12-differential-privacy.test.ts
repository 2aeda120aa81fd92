import { expect, test } from 'vitest';
import * as sy from '../../src/index.js';
import { main } from '../../tutorials/12-differential-privacy.js';

test('tutorial 12 (small): DP-SGD to a target epsilon with a line per epoch, the non-private twin, then DP-FedAvg with secure aggregation', async () => {
  const lines: string[] = [];
  const r = await main({
    train: 640, test: 200, epochs: 3, batch: 64, epsilons: '4', lr: 0.5,
    fedClients: 4, fedRounds: 2, fedSampleRate: 1, fedNoise: 0.3, log: (s) => lines.push(s),
  });
  expect(JSON.parse(lines.at(-1)!)).toEqual(JSON.parse(JSON.stringify(r)));
  // A line per epoch with loss, accuracy, epsilon so far and time.
  const perEpoch = lines.filter((l) => /^epsilon 4 {2}epoch \d\/3 {2}loss \d+\.\d{4} {2}accuracy \d+\.\d% {2}epsilon \d+\.\d{3} {2}\d+\.\ds$/.test(l));
  expect(perEpoch).toHaveLength(3);
  const [priv, plain] = r.runs;
  expect(priv!.targetEpsilon).toBe(4);
  expect(plain!.targetEpsilon).toBeNull();
  // 640 digits in batches of 64: 10 steps an epoch, sample rate 1/10; epsilon grows and ends at (just under) the target.
  expect(priv!.steps).toBe(30);
  expect(priv!.sampleRate).toBeCloseTo(0.1, 15);
  const eps = priv!.epochs.map((e) => e.epsilon!);
  expect(eps[0]!).toBeLessThan(eps[1]!);
  expect(eps[1]!).toBeLessThan(eps[2]!);
  expect(priv!.finalEpsilon!).toBeLessThanOrEqual(4);
  expect(priv!.finalEpsilon!).toBeGreaterThan(3.9);
  const ref = new sy.dp.RDPAccountant();
  ref.history = [{ noiseMultiplier: priv!.noiseMultiplier!, sampleRate: 0.1, steps: 30 }];
  expect(priv!.finalEpsilon).toBe(ref.getEpsilon(1e-5));
  // The non-private twin learns (its accuracy is far above chance on 200 test digits).
  expect(plain!.accuracy).toBeGreaterThan(0.5);
  // DP-FedAvg: two rounds of all four clients, accounted at rate 1.
  const fed = r.federated!;
  expect(fed.history.map((h) => h.clients)).toEqual([4, 4]);
  const fref = new sy.dp.RDPAccountant();
  fref.history = [{ noiseMultiplier: 0.3, sampleRate: 1, steps: 2 }];
  expect(fed.finalEpsilon).toBe(fref.getEpsilon(1e-5));
  expect(lines.filter((l) => /^DP-FedAvg {2}round \d\/2 {2}accuracy \d+\.\d% {2}clients 4 {2}epsilon \d+\.\d{3} {2}\d+\.\ds$/.test(l))).toHaveLength(2);
}, 120_000);
