// Bundles code that does `import * as sy from 'syft-ts'` the way an app would: the package is
// compiled to dist/ (tsc, as `npm run build` does) into a scratch node_modules/syft-ts with the
// repository's package.json, so esbuild resolves it through the package's `exports` conditions.
// Nothing is shimmed or marked external.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type BuildResult, type Message } from 'esbuild';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

let packaged: string | undefined;

/** A scratch folder holding node_modules/syft-ts (package.json and a fresh dist/); made once per process. */
export function packageDir(): string {
  if (packaged) return packaged;
  const dir = mkdtempSync(join(tmpdir(), 'syft-pkg-'));
  const pkg = join(dir, 'node_modules', 'syft-ts');
  mkdirSync(pkg, { recursive: true });
  copyFileSync(join(ROOT, 'package.json'), join(pkg, 'package.json'));
  const tsc = join(ROOT, 'node_modules', '.bin', 'tsc');
  execFileSync(tsc, ['-p', join(ROOT, 'tsconfig.build.json'), '--outDir', join(pkg, 'dist'), '--sourceMap', 'false', '--declaration', 'false'], {
    cwd: ROOT,
    stdio: 'pipe',
  });
  return (packaged = dir);
}

export interface Bundled {
  code: string;
  errors: Message[];
  warnings: Message[];
}

/** Bundles `source` (an ES module importing 'syft-ts') for `platform`; errors and warnings are returned, not thrown. */
export async function bundle(source: string, platform: 'browser' | 'node' = 'browser', opts: { minify?: boolean; keepNames?: boolean } = {}): Promise<Bundled> {
  const dir = packageDir();
  let r: BuildResult<{ write: false }>;
  try {
    r = await build({
      stdin: { contents: source, resolveDir: dir, loader: 'ts' },
      bundle: true,
      write: false,
      format: 'esm',
      platform,
      target: 'es2022',
      minify: opts.minify ?? false,
      // Error classes are told apart by name (also across the wire): a minifier must keep class names.
      keepNames: opts.keepNames ?? false,
      logLevel: 'silent',
      // The package's own dependencies come from the repository's node_modules.
      nodePaths: [join(ROOT, 'node_modules')],
    });
  } catch (e) {
    const f = e as { errors?: Message[]; warnings?: Message[] };
    return { code: '', errors: f.errors ?? [], warnings: f.warnings ?? [] };
  }
  return { code: r.outputFiles[0]!.text, errors: r.errors, warnings: r.warnings };
}

/** Writes a bundle to `file` (making its folder), for a page to load. */
export function writeBundle(file: string, code: string): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, code);
}

/** True when the package's dist/ could be built here (a sanity check for callers). */
export function hasDist(): boolean {
  return existsSync(join(packageDir(), 'node_modules', 'syft-ts', 'dist', 'browser.js'));
}
