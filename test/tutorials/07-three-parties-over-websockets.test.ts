import { expect, test } from 'vitest';
import { TRUE_BIAS, TRUE_WEIGHTS, main } from '../../tutorials/07-three-parties-over-websockets.js';

test('tutorial 07 (small): four processes train a linear regression; the facilitator gets no value, the model owner only figures', async () => {
  const lines: string[] = [];
  const r = await main({ rows: 60, epochs: 3, batch: 20, lr: 0.2, log: (s) => lines.push(s) });
  expect(lines.filter((l) => /^started (agency_a|agency_b|facilitator) \(process \d+\) on ws:\/\/127\.0\.0\.1:\d+$/.test(l))).toHaveLength(3);
  // progress per epoch, then the summary as the last line
  expect(lines.filter((l) => /^Epoch \d\/3: loss \d+\.\d{4} \(\d+\.\d\d s, \d+\.\d ms per batch\)$/.test(l))).toHaveLength(3);
  expect(JSON.parse(lines.at(-1)!)).toEqual(r);
  expect(r.processes).toBe(4);
  expect(r.loss[2]!).toBeLessThan(r.loss[0]! / 10);
  // the model the model owner gets back is the law both agencies' records follow
  r.weights.forEach((w, i) => expect(Math.abs(w - TRUE_WEIGHTS[i]!)).toBeLessThan(0.1));
  expect(Math.abs(r.bias - TRUE_BIAS)).toBeLessThan(0.1);
  expect(r.finalCost).toBeLessThan(0.05);
  // Who saw what: nobody sent the facilitator a value; the agencies exchanged values; the model
  // owner received only the replies to its requests: the two shares of each batch's loss.
  expect(r.traffic.facilitator.bytesFromPeers).toBe(0);
  expect(r.traffic.facilitator.bytesSent).toBeGreaterThan(0);
  expect(r.traffic.agency_a.bytesFromPeers).toBeGreaterThan(1000);
  expect(r.traffic.agency_b.bytesFromPeers).toBeGreaterThan(1000);
  expect(r.batchesPerEpoch).toBe(6);
  // (The introductions happened when the step was traced as a plan, before training.)
  expect(r.traffic.modelOwner.messagesReceived).toBe(2 * r.epochs * r.batchesPerEpoch);
  // The step ran as a plan: one small command message to each worker per batch.
  expect(r.plans).toBe(true);
  expect(lines.some((l) => /^training step traced as a plan: \d+ commands for each agency/.test(l))).toBe(true);
  expect(r.commandsPerBatch).toBeGreaterThan(20);
  for (const id of ['agency_a', 'agency_b', 'facilitator'] as const) expect(r.traffic[id].bytesFromModelOwner).toBeLessThan(600);
  expect(r.traffic.modelOwner.bytesReceived).toBeLessThan(1000);
  expect(r.bytesPerBatch).toBeGreaterThan(r.traffic.modelOwner.bytesSent);
});
