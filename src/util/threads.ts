/**
 * Starting a `node:worker_threads` thread on one of this package's modules, from the built
 * JavaScript or from the TypeScript sources (tests and tutorials run through tsx, whose module
 * hooks Node 20 threads do not inherit: the thread registers them before importing the entry).
 */
import { StateError } from '../errors.js';
import { loadNodeBuiltin } from './node.js';

type NodeWorker = import('node:worker_threads').Worker;

/**
 * How to start threads running the module `entry` (a URL without extension, resolved next to
 * the caller: `new URL('./host', import.meta.url)`): from its .js when built, else from its .ts
 * through tsx. Resolved once; undefined where threads cannot run (browsers).
 */
export async function moduleThreadFactory(entry: URL): Promise<((workerData?: unknown) => NodeWorker) | undefined> {
  const [wt, fs, url, mod, path] = await Promise.all([
    loadNodeBuiltin<typeof import('node:worker_threads')>('node:worker_threads'),
    loadNodeBuiltin<typeof import('node:fs')>('node:fs'),
    loadNodeBuiltin<typeof import('node:url')>('node:url'),
    loadNodeBuiltin<typeof import('node:module')>('node:module'),
    loadNodeBuiltin<typeof import('node:path')>('node:path'),
  ]);
  if (!wt || !fs || !url || !mod || !path) return undefined;
  const js = new URL(`${entry.href}.js`);
  if (fs.existsSync(url.fileURLToPath(js))) return (workerData) => new wt.Worker(js, { workerData });
  const ts = new URL(`${entry.href}.ts`);
  if (!fs.existsSync(url.fileURLToPath(ts))) throw new StateError(`no thread entry at ${entry.href}(.js|.ts)`);
  const pkgFile = mod.createRequire(import.meta.url).resolve('tsx/package.json');
  const pkg = JSON.parse(fs.readFileSync(pkgFile, 'utf8')) as { exports?: Record<string, { import?: { default?: string } }> };
  const api = pkg.exports?.['./esm/api']?.import?.default;
  if (typeof api !== 'string') throw new StateError('cannot start a thread from TypeScript sources: tsx has no esm api');
  const apiUrl = url.pathToFileURL(path.join(path.dirname(pkgFile), api)).href;
  const boot = `import(${JSON.stringify(apiUrl)}).then((m) => { m.register(); return import(${JSON.stringify(ts.href)}); })`;
  return (workerData) => new wt.Worker(boot, { eval: true, workerData });
}

/** Starts one thread on `entry` (see {@link moduleThreadFactory}). */
export async function spawnModuleThread(entry: URL, workerData: unknown): Promise<NodeWorker | undefined> {
  return (await moduleThreadFactory(entry))?.(workerData);
}
