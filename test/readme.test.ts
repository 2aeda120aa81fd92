import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test, vi } from 'vitest';

// The example on the README's first screen must run as printed.
test('the README example runs and prints a loss', async () => {
  const readme = readFileSync(join(import.meta.dirname, '..', 'README.md'), 'utf8');
  const code = /```ts\n([\s\S]*?)```/.exec(readme)![1]!;
  const dir = join(import.meta.dirname, 'generated');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'readme-example.ts');
  writeFileSync(file, code.replace("from 'syft-ts'", "from '../../src/index.js'"));
  const printed: unknown[] = [];
  const spy = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void printed.push(...a));
  try {
    await import(file);
  } finally {
    spy.mockRestore();
  }
  expect(printed).toHaveLength(1);
  expect(typeof printed[0]).toBe('number');
  expect(Number.isFinite(printed[0])).toBe(true);
});
