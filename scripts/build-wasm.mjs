#!/usr/bin/env node
// Builds the WebAssembly kernels from AssemblyScript and writes TypeScript modules that embed the
// wasm bytes as base64, so Node and browsers load them without file paths or fetch:
//   - the ring kernels (src/ring/assembly) three times: with SIMD, without SIMD, and with SIMD on an
//     imported shared memory (for the matmul thread pool): src/ring/generated/ring-{simd,scalar,simd-threads}.ts
//   - the Paillier modular exponentiation (src/he/paillier/assembly) with and without SIMD:
//     src/he/paillier/generated/modpow-{simd,scalar}.ts
//   - the ChaCha20 keystream of the seeded PRG (src/ring/assembly/chacha-*.ts) with and without
//     SIMD: src/ring/generated/ring-chacha-{simd,scalar}.ts
// Uses the assemblyscript package's JS API: no native toolchain. Runs from `prepare` (npm install /
// npm ci) and `pretest`.
//
//   node scripts/build-wasm.mjs            build when a source is newer than the outputs
//   node scripts/build-wasm.mjs --force    always build
import { readdir, readFile, rename, stat, mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

// --runtime stub: the kernels never allocate; --use abort=: no imports at all, so instantiation
// needs no import object; --noAssert: the host validates every argument before calling.
const common = ['-O3', '--runtime', 'stub', '--noAssert', '--use', 'abort='];
// The shared build's memory is created by the host (src/ring/kernels/matmul-pool.ts) with these
// page counts; shared memories need a maximum. 2048 pages = 128 MiB: larger products run on the
// single-threaded build instead.
const sharedPages = { initial: 32, maximum: 2048 };
const ringBuilds = [
  { name: 'simd', entry: 'simd.ts', flags: ['--enable', 'simd'], imports: [] },
  { name: 'scalar', entry: 'scalar.ts', flags: [], imports: [] },
  {
    name: 'simd-threads',
    entry: 'simd-threads.ts',
    flags: [
      '--enable', 'simd', '--enable', 'threads', '--importMemory', '--sharedMemory',
      '--initialMemory', String(sharedPages.initial), '--maximumMemory', String(sharedPages.maximum),
    ],
    imports: ['env.memory'],
    extra: `export const memoryPages = ${JSON.stringify(sharedPages)} as const;\n`,
  },
  // The ChaCha20 keystream of the seeded PRG (src/ring/chacha.ts): a fixed 5-page memory
  // (src/ring/assembly/chacha-layout.ts).
  { name: 'chacha-simd', entry: 'chacha-simd.ts', flags: ['--enable', 'simd', '--initialMemory', '5'], imports: [] },
  { name: 'chacha-scalar', entry: 'chacha-scalar.ts', flags: ['--initialMemory', '5'], imports: [] },
];
// The modpow kernel owns a fixed 256 KiB memory (4 pages): operands, accumulators and the window
// table at constant addresses (src/he/paillier/assembly/layout.ts).
const modpowBuilds = [
  { name: 'simd', entry: 'modpow.ts', flags: ['--enable', 'simd', '--initialMemory', '4'], imports: [] },
  { name: 'scalar', entry: 'modpow.ts', flags: ['--initialMemory', '4'], imports: [] },
];
const targets = [
  { label: 'src/ring/generated', sourceDir: join(root, 'src/ring/assembly'), outDir: join(root, 'src/ring/generated'), prefix: 'ring', builds: ringBuilds, optional: false },
  // Without this kernel Paillier falls back to BigInt arithmetic, so a missing compiler writes
  // empty placeholders (see placeholderSource) instead of leaving the imports unresolved.
  { label: 'src/he/paillier/generated', sourceDir: join(root, 'src/he/paillier/assembly'), outDir: join(root, 'src/he/paillier/generated'), prefix: 'modpow', builds: modpowBuilds, optional: true },
];

const force = process.argv.includes('--force');
const started = performance.now();

async function mtime(path) {
  try {
    return (await stat(path)).mtimeMs;
  } catch {
    return undefined;
  }
}

async function upToDate(target) {
  const names = (await readdir(target.sourceDir)).filter((f) => f.endsWith('.ts') || f.endsWith('.json'));
  const inputs = [...names.map((f) => join(target.sourceDir, f)), fileURLToPath(import.meta.url)];
  const newestInput = Math.max(...(await Promise.all(inputs.map(mtime))).map((t) => t ?? Infinity));
  // A compiler upgrade (npm update) also invalidates the outputs; a missing compiler does not.
  const compiler = (await mtime(join(root, 'node_modules/assemblyscript/package.json'))) ?? 0;
  const paths = target.builds.map((b) => join(target.outDir, `${target.prefix}-${b.name}.ts`));
  const outputs = await Promise.all(paths.map(mtime));
  if (!outputs.every((t) => t !== undefined && t > newestInput && t > compiler)) return false;
  // A placeholder written without the compiler is never up to date.
  const texts = await Promise.all(paths.map((path) => readFile(path, 'utf8')));
  return !texts.some((text) => text.includes(PLACEHOLDER));
}

async function loadCompiler() {
  try {
    return (await import('assemblyscript/asc')).default;
  } catch (e) {
    const error = new Error(
      `cannot load the AssemblyScript compiler (${e.message}). It is a dev dependency: run ` +
        `npm install (without --omit=dev), then npm run build:wasm.`,
    );
    error.missingCompiler = true;
    throw error;
  }
}

async function compile(target, build) {
  const asc = await loadCompiler();
  let binary;
  const { error, stderr } = await asc.main(
    [join(target.sourceDir, build.entry), '--outFile', `${target.prefix}-${build.name}.wasm`, ...common, ...build.flags],
    {
      // Keep the binary in memory: only the generated .ts file is written.
      writeFile(name, contents) {
        if (name.endsWith('.wasm')) binary = contents;
      },
    },
  );
  if (error) {
    throw new Error(`asc failed for the ${target.prefix}-${build.name} build:\n${stderr.toString()}`);
  }
  if (!(binary instanceof Uint8Array)) throw new Error(`asc produced no binary for the ${target.prefix}-${build.name} build`);
  const module = await WebAssembly.compile(binary);
  const imports = WebAssembly.Module.imports(module).map((i) => `${i.module}.${i.name}`);
  if (JSON.stringify(imports) !== JSON.stringify(build.imports)) {
    throw new Error(
      `the ${target.prefix}-${build.name} build imports ${JSON.stringify(imports)}; expected ${JSON.stringify(build.imports)}`,
    );
  }
  return binary;
}

function generatedSource(target, build, binary) {
  const b64 = Buffer.from(binary).toString('base64');
  return `// Generated by scripts/build-wasm.mjs from ${relative(root, join(target.sourceDir, build.entry))}. Do not edit.
// ${binary.length} bytes of WebAssembly (${build.name} build), base64-encoded.
export const wasmBase64 =
  '${b64}';
${build.extra ?? ''}`;
}

const PLACEHOLDER = "export const wasmBase64: string = '';";

/** An empty kernel for an optional target built without the compiler: its loader falls back. */
function placeholderSource(target, build) {
  return `// Written by scripts/build-wasm.mjs without the AssemblyScript compiler: no ${build.name} kernel
// from ${relative(root, join(target.sourceDir, build.entry))}. Install dev dependencies and run npm run build:wasm.
${PLACEHOLDER}
`;
}

// Write then rename: a test run starting at the same moment never reads a half-written file.
async function writeAtomic(path, text) {
  const temp = `${path}.${process.pid}.tmp`;
  await writeFile(temp, text);
  await rename(temp, path);
}

async function buildTarget(target) {
  if (!force && (await upToDate(target))) {
    console.log(`build:wasm: ${target.label} is up to date`);
    return;
  }
  await mkdir(target.outDir, { recursive: true });
  for (const build of target.builds) {
    const t0 = performance.now();
    const path = join(target.outDir, `${target.prefix}-${build.name}.ts`);
    let binary;
    try {
      binary = await compile(target, build);
    } catch (e) {
      if (!(e.missingCompiler && target.optional)) throw e;
      if ((await mtime(path)) === undefined) await writeAtomic(path, placeholderSource(target, build));
      console.error(`build:wasm: ${relative(root, path)}: no compiler, the BigInt fallback will be used`);
      continue;
    }
    await writeAtomic(path, generatedSource(target, build, binary));
    console.log(
      `build:wasm: ${relative(root, path)} (${binary.length} bytes, ${(performance.now() - t0).toFixed(0)} ms)`,
    );
  }
}

async function main() {
  let failure;
  // Every target is attempted, so a missing compiler still leaves the optional placeholders.
  for (const target of targets) {
    try {
      await buildTarget(target);
    } catch (e) {
      failure ??= e;
    }
  }
  if (failure !== undefined) throw failure;
  console.log(`build:wasm: done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

main().catch((e) => {
  console.error(`build:wasm: ${e.message}`);
  // Without the compiler (a production-only install) the library still works on its plain
  // JavaScript engine, so do not fail the install; a broken kernel source does fail the build.
  if (e.missingCompiler) {
    console.error('build:wasm: continuing without wasm kernels; initRing() will select the js engine');
    return;
  }
  process.exit(1);
});
