import { expect, test } from 'vitest';
import { main } from '../../tutorials/08-federated-learning-paillier.js';

// Small enough for the suite: 3 clients, 2 rounds, 300 training digits, a 256-bit key. The model
// is the full MNIST MLP, so every upload still carries 109,386 encrypted parameters.
test('tutorial 08: encrypted FedAvg reaches the accuracy of plaintext FedAvg from the same start', async () => {
  const lines: string[] = [];
  const bars: string[] = [];
  const r = await main({ clients: 3, rounds: 2, train: 300, test: 300, bits: 256, localSteps: 10, log: (s) => lines.push(s), progress: { write: (t) => bars.push(t) } });
  // Filling the r^n pools is not silent: a line each tenth of the way, then the bar's last state, each round.
  const full = bars.filter((b) => /^\[paillier \] round \d: r\^n pools \[#+\] 100% (\d+)\/\1 /.test(b));
  expect(full).toHaveLength(2);
  expect(bars.length).toBeGreaterThanOrEqual(2 * 10);
  // the round time printed includes it
  for (const x of r.paillier.rounds) expect(x.seconds * 1000).toBeCloseTo(x.fillSeconds * 1000 + x.ms.total, 3);
  expect(lines.filter((l) => /^\[paillier \] round \d\/2 .* \(fill pools \d+\.\d, train/.test(l))).toHaveLength(2);
  expect(r.parameters).toBe(109_386);
  expect(lines.filter((l) => /^\[plaintext\] round \d\/2 {2}loss \d+\.\d{4} {2}test accuracy \d+\.\d\d% {2}\d+\.\d s/.test(l))).toHaveLength(2);
  expect(lines.filter((l) => /^\[paillier \] round \d\/2 {2}loss \d+\.\d{4} {2}test accuracy \d+\.\d\d% {2}\d+\.\d s/.test(l))).toHaveLength(2);
  // The claim, at this size: the same accuracy within half a percentage point.
  expect(r.accuracyGapPoints).toBeLessThanOrEqual(0.5);
  expect(r.plaintext.accuracy).toBeGreaterThan(0.4); // it learned something (chance is 0.1)
  expect(r.plaintext.rounds[1]!.accuracy).toBeGreaterThan(r.plaintext.rounds[0]!.accuracy);
  // Same start, same data, exact additions: the models differ by the encoding's rounding (2^-20)
  // only, which later local steps amplify somewhat (a few 1e-4 after two rounds here).
  expect(r.maxWeightDifference).toBeGreaterThan(0);
  expect(r.maxWeightDifference).toBeLessThan(5e-3);
  expect(r.clientsInSync).toBe(true);
  expect(r.paillier.rounds.map((x) => x.loss)[0]).toBe(r.plaintext.rounds[0]!.loss);
  // 256-bit key: 35-bit slots, 7 per ciphertext, 64 bytes each.
  expect(r.upload.bytes).toBe(r.upload.ciphertexts * 64);
  expect(r.upload.ciphertexts).toBeGreaterThanOrEqual(Math.ceil(109_386 / 7));
  // The last line is one JSON object with the figures.
  const last = JSON.parse(lines[lines.length - 1]!) as Record<string, unknown>;
  expect(last).toMatchObject({ clients: 3, rounds: 2, bits: 256, parameters: 109_386, clientsInSync: true });
  expect(last['paillierAccuracy']).toBe(r.paillier.accuracy);
});
