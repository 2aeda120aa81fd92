import { expect, test } from 'vitest';
import { main } from '../../tutorials/11-encrypted-cnn.js';

test('tutorial 11 (tiny): the four encrypted cases give the plaintext predictions, and training on shares follows its twin', async () => {
  const lines: string[] = [];
  const r = await main({ train: 640, epochs: 1, test: 24, batch: 12, trainSteps: 2, trainBatch: 8, log: (s) => lines.push(s) });
  // A progress line per step, and the JSON summary last.
  expect(lines.filter((l) => l.startsWith('[3/4] case '))).toHaveLength(4);
  expect(lines.filter((l) => l.startsWith('[4/4] training step '))).toHaveLength(2);
  expect(JSON.parse(lines.at(-1)!)).toEqual(r);
  expect(r.cases.map((c) => c.name)).toEqual(['both shared', 'public model, shared data', 'shared model, public data', 'square activation, both shared']);
  for (const c of r.cases) {
    expect(c.msPerBatch).toBeGreaterThan(0);
    // Fixed precision may flip a near tie: at most one of the 24 digits here.
    expect(c.agreement).toBeGreaterThanOrEqual(23 / 24);
    const plain = c.name.startsWith('square') ? r.plaintextAccuracy.square : r.plaintextAccuracy.relu;
    expect(Math.abs(c.accuracy - plain)).toBeLessThanOrEqual(1 / 24 + 1e-9);
  }
  // Cross-entropy on shares, from the same weights on the same batches: the same losses.
  expect(r.encryptedLoss).toHaveLength(2);
  r.encryptedLoss.forEach((l, i) => expect(Math.abs(l - r.plaintextLoss[i]!)).toBeLessThan(0.02));
  // Trained on shares, decrypted, tested: within two of the 24 test digits of the plaintext twin.
  expect(r.afterTraining).not.toBeNull();
  expect(Math.abs(r.afterTraining!.encrypted - r.afterTraining!.plaintext)).toBeLessThanOrEqual(2 / 24 + 1e-9);
});
