// The house's direction (DESIGN.md section 4), checked from the import graph so that it stays
// true: every folder imports only folders on its own floor or below, no two folders import each
// other, the protocols know no tensor layer, and the workers know neither tensor layers nor the
// public API. Also the shape of the transport code: small files, one place that maps a remote
// failure to RemoteError.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { areaOf, importGraph } from './imports.js';

const SRC = join(import.meta.dirname, '../../src');

/**
 * Floors, bottom up. A file may import from its own floor or below; folders on one floor must not
 * import each other both ways.
 */
const FLOORS: string[][] = [
  ['errors', 'shapes', 'layer', 'util', 'types', 'config'],
  ['ring'],
  ['workers', 'backend'],
  ['he'],
  ['mpc'],
  ['tensors'],
  ['tensor', 'factory'],
  ['nn', 'optim', 'data'],
  ['federated', 'dp', 'plans'],
  ['registry', 'index', 'browser', 'api', 'cli', 'thread-host'],
];

const floorOf = new Map<string, number>();
FLOORS.forEach((areas, i) => areas.forEach((a) => floorOf.set(a, i)));

const edges = importGraph(SRC).map((e) => ({ ...e, a: areaOf(e.from), b: areaOf(e.to) })).filter((e) => e.a !== e.b);

describe('the import graph of src/', () => {
  test('every folder and top-level file has a floor', () => {
    const areas = new Set(edges.flatMap((e) => [e.a, e.b]));
    expect([...areas].filter((a) => !floorOf.has(a))).toEqual([]);
  });

  test('imports run down the house, never up', () => {
    const up = edges.filter((e) => floorOf.get(e.b)! > floorOf.get(e.a)!).map((e) => `${e.from} -> ${e.to}`);
    expect(up).toEqual([]);
  });

  test('no two folders import each other', () => {
    const pairs = new Set(edges.map((e) => `${e.a} -> ${e.b}`));
    const both = [...pairs].filter((p) => {
      const [a, b] = p.split(' -> ');
      return a! < b! && pairs.has(`${b} -> ${a}`);
    });
    expect(both).toEqual([]);
  });

  test('protocols (mpc/) know no tensor layer; workers know neither layers nor the public API', () => {
    const bad = edges.filter(
      (e) => (e.a === 'mpc' && ['tensors', 'tensor'].includes(e.b)) || (e.a === 'workers' && ['tensors', 'tensor', 'index'].includes(e.b)),
    );
    expect(bad.map((e) => `${e.from} -> ${e.to}`)).toEqual([]);
  });

  test('the checker sees imports (a sample it must find)', () => {
    // Guards the guard: if the parser stopped seeing imports, every test above would pass.
    expect(edges.some((e) => e.from === 'tensors/additive-sharing.ts' && e.to === 'mpc/beaver.ts')).toBe(true);
    expect(edges.some((e) => e.from === 'ring/ring-tensor.ts' && e.to === 'layer/abstract.ts')).toBe(true);
  });
});

describe('the transports', () => {
  const files = (dir: string): string[] =>
    readdirSync(join(SRC, dir), { withFileTypes: true }).flatMap((d) => (d.isDirectory() ? files(join(dir, d.name)) : [join(dir, d.name)]));

  test('no file under workers/websocket/ is over 300 lines', () => {
    const long = files('workers/websocket')
      .map((f) => [f, readFileSync(join(SRC, f), 'utf8').split('\n').length] as const)
      .filter(([, n]) => n > 300);
    expect(long).toEqual([]);
  });

  test('one place maps a remote failure to RemoteError', () => {
    const uses = files('workers').flatMap((f) => readFileSync(join(SRC, f), 'utf8').split('new RemoteError(').slice(1).map(() => f));
    expect(uses.length).toBe(1);
  });
});
