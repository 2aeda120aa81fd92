import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { expect, test } from 'vitest';
import { main } from '../../tutorials/10-split-learning.js';

test('tutorial 10 (small): the split network trains as its uncut twin, says who holds what, and reports its figures', async () => {
  const lines: string[] = [];
  const r = await main({ train: 192, test: 128, epochs: 3, batch: 32, lr: 0.05, progress: false, log: (s) => lines.push(s) });
  // What each party holds and sees is spelled out.
  for (const who of [/^ {2}alice: the images and the bottom half/, /^ {2}bob: {3}the labels and the top half/, /^ {2}us: {4}the orchestrator/]) {
    expect(lines.some((l) => who.test(l))).toBe(true);
  }
  // One line per epoch, with both losses.
  expect(lines.filter((l) => /^epoch \d\/3 {2}loss \d\.\d{4} {2}twinLoss \d\.\d{3} {2}\d+\.\ds$/.test(l))).toHaveLength(3);
  // The last line is the JSON summary.
  expect(JSON.parse(lines.at(-1)!)).toEqual(r);
  expect([r.trainItems, r.testItems, r.epochs, r.batchSize]).toEqual([192, 128, 3, 32]);
  // The cut changes nothing: the same losses and weights as the network trained in one piece.
  expect(r.maxLossDifference!).toBeLessThan(1e-5);
  expect(r.maxWeightDifference!).toBeLessThan(1e-5);
  r.splitLoss.forEach((l, i) => expect(Math.abs(l - r.twinLoss![i]!)).toBeLessThan(1e-5));
  expect(r.splitTestAccuracy).toBe(r.twinTestAccuracy);
  expect(r.splitLoss[2]!).toBeLessThan(r.splitLoss[0]!);
  expect(r.splitTestAccuracy).toBeGreaterThan(0.2); // 10 classes: chance is 0.1
  expect(r.valuesAcrossCutPerBatch).toBe(2 * 32 * 640);
  expect(r.msPerSplitBatch).toBeGreaterThan(0);
  expect(r.msPerTwinBatch!).toBeGreaterThan(0);
});

test('tutorial 10 --help prints its flags and exits 0; a wrong flag exits 2 with the usage', async () => {
  const run = promisify(execFile);
  const tsx = ['node_modules/.bin/tsx', 'tutorials/10-split-learning.ts'] as const;
  const help = await run(tsx[0], [tsx[1], '--help']);
  expect(help.stdout).toMatch(/^usage: npx tsx tutorials\/10-split-learning.ts \[flags\]/);
  for (const flag of ['--train', '--test', '--epochs', '--batch', '--lr', '--seed', '--twin']) expect(help.stdout).toContain(flag);
  const bad = await run(tsx[0], [tsx[1], '--epoch', '2']).catch((e: { code: number; stderr: string }) => e);
  expect((bad as { code: number }).code).toBe(2);
  expect((bad as { stderr: string }).stderr).toMatch(/unknown flag '--epoch'/);
});
