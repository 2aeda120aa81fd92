// The example page (examples/web-data-owner, `npm run example:web`) in headless Chromium: a data
// owner picks a CSV, previews it and joins; the model owner computes column means on it by
// pointer; the page's byte counter shows exactly what the model owner received; and a screenshot
// of the page is taken (test/generated/web-data-owner.png) and checked not to be blank.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import * as sy from '../../src/index.js';
import { type Example, columnMeans, trainLinear, startExample } from '../../examples/web-data-owner/serve.js';
import { Browser, findChromium } from './helpers/chromium.js';
import { pngColours } from './helpers/png.js';

const binary = findChromium();

describe.skipIf(!binary)('the web data owner example', () => {
  let browser: Browser;
  let ex: Example;
  beforeAll(async () => {
    ex = await startExample();
    browser = await Browser.launch(binary!);
  });
  afterAll(async () => {
    await browser?.close();
    await ex?.stop();
  });

  test('a CSV picked from disk is previewed, joined and computed on where it is; the counter equals what the model owner received', async () => {
    const rows = [[1, 10, 0.5], [2, 20, 1.5], [3, 30, -2], [4, 40, 4], [5, 50, 1], [6, 60, 0]];
    const dir = mkdtempSync(join(tmpdir(), 'syft-example-'));
    const csv = join(dir, 'my-data.csv');
    writeFileSync(csv, `age,income,score\n${rows.map((r) => r.join(',')).join('\n')}\n`);
    const page = await browser.newPage(ex.pageUrl);
    await page.setFiles('#file', [csv]);
    const wait = (cond: string, ms = 20_000) =>
      page.evaluate(`new Promise((ok, no) => { const t0 = Date.now(); const t = setInterval(() => { if (${cond}) { clearInterval(t); ok(true); } else if (Date.now() - t0 > ${ms}) { clearInterval(t); no(new Error('timed out waiting for ${cond.replace(/'/g, '')}')); } }, 50); })`);
    await wait("!document.getElementById('join').disabled");
    expect(await page.evaluate<string>("document.getElementById('preview').textContent")).toMatch(/^6 rows, 3 columns.*age.*income.*score/);
    await page.evaluate("document.getElementById('join').click()");
    await wait("document.getElementById('status').textContent.startsWith('Joined')");

    const { client, means } = await columnMeans(ex);
    try {
      const want = [0, 1, 2].map((j) => rows.reduce((a, r) => a + r[j]!, 0) / rows.length);
      means.forEach((m, j) => expect(m).toBeCloseTo(want[j]!, 5));
      // The counter refreshes five times a second, and acknowledgements may still be crossing:
      // wait until what the page shows and what the model owner received agree.
      const shown = async () => {
        const [b, m] = await page.evaluate<[string, string]>("['client-bytes', 'client-msgs'].map((id) => document.getElementById(id).textContent)");
        return { bytes: Number(b.replace(/,/g, '')), messages: Number(m.replace(/,/g, '')) };
      };
      const got = () => ({ bytes: client.traffic.bytesReceived, messages: client.traffic.messagesReceived });
      let seen = await shown();
      for (let i = 0; i < 50 && JSON.stringify(seen) !== JSON.stringify(got()); i++) {
        await new Promise((r) => setTimeout(r, 100));
        seen = await shown();
      }
      expect(seen).toEqual(got());
      expect(seen.bytes).toBeGreaterThan(0);
    } finally {
      await client.close();
    }

    // The model owner trains by pointer on the page's rows; the page plots each step's loss live.
    const trained = await trainLinear(ex, { steps: 30, lr: 0.1 });
    try {
      const { losses } = trained;
      expect(losses).toHaveLength(30);
      // Gradient descent on a convex loss with a small step: it falls at every step.
      losses.slice(1).forEach((l, i) => expect(l).toBeLessThanOrEqual(losses[i]! + 1e-6));
      expect(losses.at(-1)!).toBeLessThan(losses[0]! * 0.9);
      // The same model trained on the rows in plaintext (same seed, same standardisation) gives the same losses.
      const data = sy.tensor(rows);
      const features = data.indexSelect(1, [0, 1]);
      const mean = features.mean(0, true);
      const x = features.sub(mean).div(features.sub(mean).pow(2).mean(0, true).add(1e-6).sqrt());
      const y = data.indexSelect(1, [2]);
      sy.manualSeed(7);
      const twin = new sy.nn.Linear(2, 1);
      const opt = new sy.optim.SGD(twin.parameters(), { lr: 0.1 });
      const twinLosses: number[] = [];
      for (let i = 0; i < 30; i++) {
        opt.zeroGrad();
        const l = twin.forward(x).sub(y).pow(2).mean();
        l.backward();
        opt.step();
        twinLosses.push(l.item());
      }
      losses.forEach((l, i) => expect(l).toBeCloseTo(twinLosses[i]!, 5));
      await wait("document.getElementById('loss-text').textContent.startsWith('step 30:')");
      const curve = await page.evaluate<string>("document.getElementById('loss-line').getAttribute('points')");
      const ys = curve.trim().split(' ').map((p) => Number(p.split(',')[1]));
      expect(ys).toHaveLength(30);
      expect(ys.at(-1)!).toBeGreaterThan(ys[0]!); // SVG y grows downwards: a falling loss
      expect(await page.evaluate<string>("document.getElementById('loss-text').textContent")).toContain(losses.at(-1)!.toFixed(4));
    } finally {
      await trained.client.close();
    }

    const png = await page.screenshot();
    mkdirSync(join(import.meta.dirname, '..', 'generated'), { recursive: true });
    writeFileSync(join(import.meta.dirname, '..', 'generated', 'web-data-owner.png'), png);
    const { width, height, colours } = pngColours(png);
    expect(width).toBe(1024);
    expect(height).toBeGreaterThan(500);
    expect(colours).toBeGreaterThan(20); // text, borders and table shading, not one flat colour
  });
});
