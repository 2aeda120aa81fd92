// The run-time import graph of src/, read from the sources as text (no dependency): every
// `import ... from './x.js'`, `export ... from`, bare `import './x.js'` and `import('./x.js')`
// between project files, leaving out type-only imports, which vanish when compiled.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

export interface Edge {
  from: string; // path relative to src/, e.g. 'mpc/beaver.ts'
  to: string;
}

function sources(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) {
      if (name !== 'assembly' && name !== 'generated') sources(path, out);
    } else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

const IMPORT = /(?:^|\n)\s*(import|export)\s+(type\s+)?([^'";]*?)\s*from\s*['"](\.[^'"]+)['"]|import\(\s*['"](\.[^'"]+)['"]\s*\)|(?:^|\n)\s*import\s+['"](\.[^'"]+)['"]/g;

function typeOnly(clause: string): boolean {
  const braces = clause.trim().match(/^\{([^}]*)\}$/);
  return braces !== null && braces[1]!.split(',').every((s) => !s.trim() || /^\s*type\s/.test(s));
}

/** Run-time imports between files of `srcDir`. */
export function importGraph(srcDir: string): Edge[] {
  const root = resolve(srcDir);
  const edges: Edge[] = [];
  for (const file of sources(root)) {
    const text = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
    for (const m of text.matchAll(IMPORT)) {
      if (m[2] || (m[3] !== undefined && typeOnly(m[3]))) continue;
      const spec = (m[4] ?? m[5] ?? m[6])!;
      const target = resolve(dirname(file), spec.replace(/\.js$/, '.ts'));
      if (!target.startsWith(root)) continue;
      edges.push({ from: relative(root, file), to: relative(root, target) });
    }
  }
  return edges;
}

/** The folder (or top-level file, without .ts) a source path belongs to. */
export function areaOf(path: string): string {
  const parts = path.split('/');
  return parts.length === 1 ? parts[0]!.replace(/\.ts$/, '') : parts[0]!;
}
