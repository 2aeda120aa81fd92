// The tutorials' tools: strict flags with --help, progress lines, SVG plots.
import { describe, expect, test } from 'vitest';
import * as sy from '../../src/index.js';

const spec = {
  epochs: { type: 'number', default: 20, integer: true, min: 1, help: 'passes over the data' },
  lr: { type: 'number', default: 0.02, help: 'learning rate' },
  plot: { type: 'optional-string', help: 'write the curves to this SVG file' },
  plaintext: { type: 'boolean', default: true, help: 'train the plaintext twin' },
} as const satisfies Record<string, sy.utils.FlagSpec>;

describe('flags', () => {
  test('defaults, --flag value, --flag=value, booleans', () => {
    expect(sy.utils.parseFlags(spec, [])).toEqual({ epochs: 20, lr: 0.02, plot: undefined, plaintext: true });
    expect(sy.utils.parseFlags(spec, ['--epochs', '3', '--lr=0.5', '--plot=out.svg', '--plaintext=false'])).toEqual({
      epochs: 3,
      lr: 0.5,
      plot: 'out.svg',
      plaintext: false,
    });
  });

  test('--help asks for the usage, which lists every flag with its default', () => {
    expect(sy.utils.parseFlags(spec, ['--epochs', '3', '--help'])).toBeUndefined();
    const text = sy.utils.usage('npx tsx t.ts', spec);
    for (const f of ['--epochs N', '--lr N', '--plot TEXT', '--plaintext', '--help']) expect(text).toContain(f);
    expect(text).toContain('(default 20)');
  });

  test('unknown flags, missing and bad values are refused clearly', () => {
    expect(() => sy.utils.parseFlags(spec, ['--epoch', '3'])).toThrow(/unknown flag '--epoch'/);
    expect(() => sy.utils.parseFlags(spec, ['--epochs'])).toThrow(/--epochs needs a value/);
    expect(() => sy.utils.parseFlags(spec, ['--epochs', 'many'])).toThrow(/takes a number, got 'many'/);
    expect(() => sy.utils.parseFlags(spec, ['--epochs', '2.5'])).toThrow(/whole number/);
    expect(() => sy.utils.parseFlags(spec, ['--epochs', '0'])).toThrow(/must be in \[1, inf\]/);
    expect(() => sy.utils.parseFlags(spec, ['--epochs', '--lr'])).toThrow(/needs a value/);
  });
});

describe('progress', () => {
  test('a pipe gets a line every tenth, and a last line', () => {
    const lines: string[] = [];
    const bar = new sy.utils.Progress('work', 50, { unit: 'items', sink: { write: (t) => lines.push(t), isTTY: false } });
    for (let i = 0; i < 50; i++) bar.tick();
    bar.done();
    expect(lines.length).toBe(10); // 10%, 20%, ... 90%, then done
    expect(lines.at(-1)).toMatch(/work \[#+\] 100% 50\/50 .* items\/s, .* elapsed, done\n$/);
    expect(lines[0]).toMatch(/ 10% 5\/50 /);
  });

  test('a terminal is redrawn in place', () => {
    let text = '';
    const bar = new sy.utils.Progress('t', 3, { sink: { write: (t) => void (text += t), isTTY: true } });
    bar.tick(3);
    bar.done();
    expect(text.startsWith('\r')).toBe(true);
    expect(text).toContain('100%');
  });

  test('epoch lines', () => {
    expect(sy.utils.epochLine({ epoch: 3, epochs: 20, loss: 0.12345, accuracy: 0.912, seconds: 4.1, epsilon: 1.5 })).toBe(
      'epoch  3/20  loss 0.1235  accuracy 91.2%  epsilon 1.500  4.1s',
    );
  });
});

test('an SVG plot holds each series as a polyline with its legend', () => {
  const svg = sy.utils.linePlot(
    [
      { name: 'encrypted', values: [0.9, 0.5, 0.3] },
      { name: 'plaintext <twin>', values: [0.8, 0.45, 0.31] },
    ],
    { title: 'loss per epoch', xLabel: 'epoch', yLabel: 'loss' },
  );
  expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
  expect(svg.match(/<polyline /g)?.length).toBe(2);
  expect(svg.match(/<circle /g)?.length).toBe(6);
  expect(svg).toContain('plaintext &lt;twin&gt;');
  expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
});

test('what the tutorials used to import by deep path is public API', async () => {
  // CSPRNG hex: the length asked for, only hex digits, never the same twice
  const a = sy.utils.randomHex(32);
  expect(a).toMatch(/^[0-9a-f]{64}$/);
  expect(sy.utils.randomHex()).toMatch(/^[0-9a-f]{32}$/);
  expect(new Set(Array.from({ length: 100 }, () => sy.utils.randomHex(8))).size).toBe(100);
  expect(() => sy.utils.randomHex(-1)).toThrow(sy.ValueError);
  // seeded: the same numbers from the same seed, others from another
  const draw = (seed: number) => { const r = new sy.utils.SeededRandom(seed); return [r.normal(), r.next(), r.uniform(2, 3)]; };
  expect(draw(7)).toEqual(draw(7));
  expect(draw(7)).not.toEqual(draw(8));
  expect(typeof sy.federated.privateBatches).toBe('function');
  expect(() => sy.readTokenFile('/nonexistent/token')).toThrow(/cannot read the token file/);
});
