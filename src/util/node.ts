/**
 * The one door to Node's built-in modules from code that also runs in browsers. Shared code never
 * writes `import 'node:...'` (a bundler for the web would fail on it, or ship a page that does not
 * load); it asks here, and gets `undefined` outside Node. Node >= 20.16 hands built-ins out
 * synchronously (`process.getBuiltinModule`), which no bundler sees; older Node 20 needs
 * {@link loadNodeBuiltin} once, by an import whose specifier bundlers are told to leave alone.
 * Code that only ever runs in Node (the listening server, worker processes, thread entries, the
 * command line) imports `node:*` directly: the browser entry never reaches it.
 */

interface NodeProcess {
  versions?: { node?: string };
  env?: Record<string, string | undefined>;
  getBuiltinModule?: (id: string) => unknown;
}

const proc = (globalThis as { process?: NodeProcess }).process;

/** True in Node (and not in a browser, a web worker or a bundle's fake `process`). */
export const IS_NODE = typeof proc?.versions?.node === 'string';

const loaded = new Map<string, unknown>();

/**
 * Node's built-in module `id` (`'node:os'`), or undefined outside Node. Synchronous on
 * Node >= 20.16; on older Node 20 after {@link loadNodeBuiltin}.
 *
 * @example
 * ```ts
 * const os = nodeBuiltin<typeof import('node:os')>('node:os');
 * const cores = os?.availableParallelism() ?? 1;
 * ```
 */
export function nodeBuiltin<T>(id: `node:${string}`): T | undefined {
  if (!IS_NODE) return undefined;
  let m = loaded.get(id);
  if (m === undefined) {
    m = proc?.getBuiltinModule?.(id);
    if (m !== undefined) loaded.set(id, m);
  }
  return m as T | undefined;
}

/** Like {@link nodeBuiltin}, loading the module first where Node has no synchronous way. */
export async function loadNodeBuiltin<T>(id: `node:${string}`): Promise<T | undefined> {
  if (!IS_NODE) return undefined;
  const sync = nodeBuiltin<T>(id);
  if (sync !== undefined) return sync;
  const spec: string = id;
  const m = (await import(/* webpackIgnore: true */ /* @vite-ignore */ spec)) as T;
  loaded.set(id, m);
  return m;
}

/**
 * An environment variable in Node, undefined elsewhere (a page has no environment; its settings
 * come as options).
 *
 * @example
 * ```ts
 * const backend = envVar('SYFT_BACKEND'); // 'cpu', or undefined
 * ```
 */
export function envVar(name: string): string | undefined {
  return IS_NODE ? proc?.env?.[name] : undefined;
}
