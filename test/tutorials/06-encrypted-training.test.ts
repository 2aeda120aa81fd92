import { expect, test } from 'vitest';
import { main } from '../../tutorials/06-encrypted-training-mnist.js';

test('tutorial 06 (small): encrypted training follows the plaintext twin and reports its figures', async () => {
  const lines: string[] = [];
  const r = await main({ train: 192, test: 128, epochs: 3, logInterval: 1, log: (s) => lines.push(s) });
  // progress per batch, as the post prints it: 96 items per owner make 2 batches each, 4 an epoch
  expect(lines.filter((l) => /^Train Epoch: \d+ \[\d+\/192 \(\d+%\)\]\tLoss: \d\.\d{6}\tTime: \d+\.\d{3}s$/.test(l))).toHaveLength(12);
  // the training step and the test batches ran as plans, and the tutorial says so
  expect(r.plans).toBe(true);
  expect(r.commandsPerBatch).toBeGreaterThan(50);
  expect(lines.some((l) => /^training step traced as a plan: \d+ commands for each party, sent as one message per party/.test(l))).toBe(true);
  // the last line is the JSON summary
  expect(JSON.parse(lines.at(-1)!)).toEqual(r);
  for (const k of ['encryptedMsPerBatch', 'plaintextMsPerBatch', 'encryptedInferenceMsPerBatch'] as const) expect(r[k]).toBeGreaterThan(0);
  // Same start, same batches: the encrypted loss tracks the plaintext loss epoch by epoch, and falls.
  r.encryptedLoss.forEach((l, i) => expect(Math.abs(l - r.plaintextLoss![i]!)).toBeLessThan(0.01));
  expect(r.encryptedLoss[2]!).toBeLessThan(r.encryptedLoss[0]!);
  expect(Math.abs(r.encryptedTestAccuracy - r.plaintextTestAccuracy!)).toBeLessThanOrEqual(0.1);
});
