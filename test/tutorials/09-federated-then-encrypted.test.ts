import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { expect, test } from 'vitest';
import { main } from '../../tutorials/09-federated-then-encrypted-mnist.js';

test('tutorial 09 (tiny): the federated CNN trains as its local twin, then is tested on encrypted data and model', async () => {
  const lines: string[] = [];
  const { weights, ...r } = await main({ train: 256, test: 100, batch: 64, encryptedTest: 10, encryptedBatch: 5, twin: true, agreement: true, log: (s) => lines.push(s) });
  expect(lines[0]).toBe('training digits: 128 on bob, 128 on alice; 4 batches an epoch');
  expect(lines.filter((l) => /^epoch 1\/1 {2}loss \d\.\d{4} {2}4 batches {2}\d+\.\ds$/.test(l))).toHaveLength(1);
  expect(JSON.parse(lines.at(-1)!)).toEqual(r);
  expect([r.trainItems, r.testItems, r.encryptedTestItems, r.epochs, r.batchSize]).toEqual([256, 100, 10, 1, 64]);
  // The model went to bob's and alice's batches and came home with its gradients: the same
  // losses as the same CNN trained here on the same batches in the same order.
  expect(r.batchLoss).toHaveLength(4);
  expect(r.maxTwinLossDifference!).toBeLessThan(1e-5);
  expect(r.batchLoss[3]!).toBeLessThan(r.batchLoss[0]!);
  expect(weights!.length).toBe(20 * 25 + 20 + 50 * 20 * 25 + 50 + 800 * 500 + 500 + 500 * 10 + 10);
  // Encrypted testing classifies the client's digits as the plaintext model does (fixed precision
  // may flip a near tie: at most one of ten).
  expect(r.encryptedTestAccuracy).not.toBeNull();
  expect(Math.abs(r.encryptedTestAccuracy! - r.plaintextTestAccuracy!)).toBeLessThanOrEqual(0.1);
  // --agreement: the client's encrypted predictions, digit by digit, against plaintext's.
  expect(r.encryptedPlaintextAgreement).toBeGreaterThanOrEqual(0.9);
  expect(lines.some((l) => l.startsWith("encrypted predictions equal to plaintext's"))).toBe(true);
  expect(lines.some((l) => /^client's 10 digits, encrypted .*: \d+\/10 \(\d+\.\d%\); the same digits in plaintext: \d+\.\d%$/.test(l))).toBe(true);
  expect(r.msPerFederatedBatch).toBeGreaterThan(0);
  expect(r.msPerEncryptedBatch!).toBeGreaterThan(0);
});

test('tutorial 09 --help prints its flags and exits 0; a wrong flag exits 2 with the usage', async () => {
  const run = promisify(execFile);
  const tsx = ['node_modules/.bin/tsx', 'tutorials/09-federated-then-encrypted-mnist.ts'] as const;
  const help = await run(tsx[0], [tsx[1], '--help']);
  expect(help.stdout).toMatch(/^usage: npx tsx tutorials\/09-federated-then-encrypted-mnist.ts \[flags\]/);
  for (const flag of ['--train', '--test', '--epochs', '--batch', '--lr', '--encrypted-test', '--seed', '--twin']) expect(help.stdout).toContain(flag);
  const bad = await run(tsx[0], [tsx[1], '--lr', 'fast']).catch((e: { code: number; stderr: string }) => e);
  expect((bad as { code: number }).code).toBe(2);
  expect((bad as { stderr: string }).stderr).toMatch(/--lr takes a number/);
});
