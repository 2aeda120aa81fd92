// Bundles code that does `import * as sy from 'syft-ts'` the way an app would: the package is
// compiled to dist/ (tsc, as `npm run build` does) into a scratch node_modules/syft-ts with the
// repository's package.json and its dependencies beside it, so bundlers resolve it through the
// package's `exports` conditions. Nothing is shimmed or marked external.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
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
  // Its dependencies, installed beside it as an app's would be (links to the repository's copies).
  const deps = Object.keys((JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> }).dependencies);
  for (const d of deps) {
    const at = join(dir, 'node_modules', d);
    mkdirSync(dirname(at), { recursive: true });
    symlinkSync(join(ROOT, 'node_modules', d), at, 'dir');
  }
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
      // Off unless asked: error names survive minifying (the classes state them), other names do not.
      keepNames: opts.keepNames ?? false,
      logLevel: 'silent',
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

/** Builds `source` for the web with vite (as `vite build` would), collecting every warning it logs. */
export async function viteBundle(source: string): Promise<{ code: string; warnings: string[] }> {
  const { build: viteBuild } = await import('vite');
  const dir = packageDir();
  const entry = join(dir, 'vite-entry.js');
  writeFileSync(entry, source);
  const warnings: string[] = [];
  const log = (m: string) => void warnings.push(m);
  const out = (await viteBuild({
    root: dir,
    configFile: false,
    logLevel: 'warn',
    customLogger: { info() {}, warn: log, warnOnce: log, error: log, clearScreen() {}, hasErrorLogged: () => false, hasWarned: false },
    build: { write: false, minify: false, rollupOptions: { input: entry } },
  })) as { output: { type: string; code?: string }[] } | { output: { type: string; code?: string }[] }[];
  const outputs = (Array.isArray(out) ? out : [out]).flatMap((o) => o.output);
  return { code: outputs.filter((o) => o.type === 'chunk').map((o) => o.code ?? '').join('\n'), warnings };
}

/**
 * Builds `source` for the web with webpack 5 (its Node API, as `webpack --target web` would),
 * returning the emitted JavaScript and every warning and error. Production mode but not minified,
 * so that tests can look for classes by name.
 */
export async function webpackBundle(
  source: string,
  publicPath = 'auto',
): Promise<{ code: string; files: Record<string, string>; warnings: string[]; errors: string[]; assets: string[] }> {
  const { default: webpack } = await import('webpack');
  const dir = packageDir();
  const entry = join(dir, 'webpack-entry.js');
  writeFileSync(entry, source);
  const out = join(dir, 'webpack-out');
  const stats = await new Promise<import('webpack').Stats>((res, rej) =>
    webpack(
      { context: dir, entry, target: 'web', mode: 'production', optimization: { minimize: false }, output: { path: out, filename: 'main.js', publicPath }, performance: { hints: false } },
      (err, s) => (err || !s ? rej(err ?? new Error('webpack gave no stats')) : res(s)),
    ),
  );
  const info = stats.toJson({ all: false, warnings: true, errors: true });
  const text = (m: { message: string }[] | undefined) => (m ?? []).map((w) => w.message);
  const assets = Object.keys(stats.compilation.assets);
  const files = Object.fromEntries(assets.filter((a) => a.endsWith('.js') && existsSync(join(out, a))).map((a) => [a, readFileSync(join(out, a), 'utf8')]));
  return { code: Object.values(files).join('\n'), files, warnings: text(info.warnings), errors: text(info.errors), assets };
}
