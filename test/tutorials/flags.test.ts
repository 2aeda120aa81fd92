// Every tutorial explains itself: `--help` prints the usage with each flag and exits 0, an unknown
// flag is refused with exit code 2 and the usage; the tutorials that train write their curves
// as SVG with `--plot`. The scripts run as a user runs them (tsx, in a child process).
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, test } from 'vitest';
import { main as lesson1 } from '../../tutorials/01-trusted-aggregator.js';
import { main as lesson5 } from '../../tutorials/05-federated-learning-encrypted-aggregation.js';
import { parseFlags as flags06 } from '../../tutorials/06-encrypted-training-mnist.js';
import { parseFlags as flags07 } from '../../tutorials/07-three-parties-over-websockets.js';

const dir = fileURLToPath(new URL('../../tutorials/', import.meta.url));
const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const lessons = readdirSync(dir).filter((f) => /^\d\d-.*\.ts$/.test(f)).sort();

function run(file: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', tsx, join(dir, file), ...args], { timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

describe.concurrent('tutorial command lines', () => {
  test('there are tutorials 01-08 at least', () => {
    expect(lessons.slice(0, 8).map((f) => f.slice(0, 2))).toEqual(['01', '02', '03', '04', '05', '06', '07', '08']);
  });

  for (const file of lessons) {
    test(`${file} --help prints its usage and exits 0`, async () => {
      const r = await run(file, ['--help']);
      expect(r.code).toBe(0);
      expect(r.stderr).toBe('');
      expect(r.stdout).toContain(`usage: npx tsx tutorials/${file} [flags]`);
      expect(r.stdout).toMatch(/--help +print this and exit/);
      // every flag but --help has a line of help; those with values state their default
      const lines = r.stdout.split('\n').filter((l) => /^ {2}--/.test(l) && !l.includes('--help'));
      for (const l of lines) expect(l).toMatch(/^ {2}--[a-z-]+( N| TEXT)? +\S/);
    }, 90_000);

    test(`${file} refuses an unknown flag with exit code 2`, async () => {
      const r = await run(file, ['--no-such-flag']);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain("unknown flag '--no-such-flag' (see --help)");
      expect(r.stderr).toContain('usage:');
    }, 90_000);
  }
});

test('tutorials 06 and 07 parse --name=value and --name value, and say what is wrong', () => {
  expect(flags06(['--epochs=2', '--train', '128', '--plaintext=false'])).toMatchObject({ epochs: 2, train: 128, plaintext: false });
  expect(flags06(['--help'])).toBeUndefined();
  expect(() => flags06(['--epochs', 'x'])).toThrow("--epochs takes a number, got 'x'");
  expect(() => flags06(['--parties', '9'])).toThrow('--parties must be in [2, 5], got 9');
  expect(flags07(['--rows=40', '--lr', '0.5'])).toMatchObject({ rows: 40, lr: 0.5 });
  expect(() => flags07(['--rows', '1.5'])).toThrow("--rows takes a whole number, got '1.5'");
});

const plots = mkdtempSync(join(tmpdir(), 'syft-plots-'));
afterAll(() => rmSync(plots, { recursive: true, force: true }));

test('tutorials 01 and 05 write their loss curves as SVG with --plot', async () => {
  const quiet = () => {};
  const r1 = await lesson1({ rounds: 3, localSteps: 3, plot: join(plots, 'one.svg'), log: quiet });
  const r5 = await lesson5({ rounds: 3, localSteps: 3, plot: join(plots, 'five.svg'), log: quiet });
  for (const [name, r] of [['one', r1], ['five', r5]] as const) {
    const svg = readFileSync(join(plots, `${name}.svg`), 'utf8');
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    // one line per party, three points each, and a legend naming them
    expect(svg.match(/<polyline /g)).toHaveLength(2);
    expect(svg.match(/<circle /g)).toHaveLength(6);
    expect(svg).toContain('>Bob</text>');
    expect(svg).toContain('>Alice</text>');
    expect(r.rounds).toHaveLength(3);
  }
});
