// The example page (examples/web-data-owner, `npm run example:web`) in headless Chromium: a data
// owner picks a CSV, previews it and joins; the model owner computes column means on it by
// pointer; the page's byte counter shows exactly what the model owner received; and a screenshot
// of the page is taken (test/generated/web-data-owner.png) and checked not to be blank.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type Example, columnMeans, startExample } from '../../examples/web-data-owner/serve.js';
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

    const png = await page.screenshot();
    mkdirSync(join(import.meta.dirname, '..', 'generated'), { recursive: true });
    writeFileSync(join(import.meta.dirname, '..', 'generated', 'web-data-owner.png'), png);
    const { width, height, colours } = pngColours(png);
    expect(width).toBe(1024);
    expect(height).toBeGreaterThan(500);
    expect(colours).toBeGreaterThan(20); // text, borders and table shading, not one flat colour
  });
});
