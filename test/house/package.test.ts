// What `npm pack` ships: the compiled entries that package.json's `exports` name. dist/ is not in
// git, so packing must build it first (prepack), and every file `exports` points to must be one
// that building src/ makes.
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { expect, test } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  main: string;
  types: string;
  files: string[];
  scripts: Record<string, string>;
  exports: Record<string, unknown>;
};

/** Every string leaf of the exports map. */
function targets(v: unknown): string[] {
  if (typeof v === 'string') return [v];
  return Object.values(v as Record<string, unknown>).flatMap(targets);
}

test('packing builds dist, ships it, and every exported file comes from a source file', () => {
  expect(pkg.scripts.prepack).toMatch(/\bnpm run build\b/);
  expect(pkg.scripts.build).toMatch(/tsc -p tsconfig\.build\.json/);
  expect(pkg.files).toContain('dist');
  const all = [pkg.main, pkg.types, ...targets(pkg.exports)];
  expect(all.length).toBeGreaterThanOrEqual(4);
  for (const t of all) {
    const m = /^\.\/dist\/(.+)\.(?:d\.ts|js)$/.exec(t);
    expect(m, `${t} is not a file under dist/`).not.toBeNull();
    expect(existsSync(join(ROOT, 'src', `${m![1]}.ts`)), `${t} has no source src/${m![1]}.ts`).toBe(true);
  }
});
