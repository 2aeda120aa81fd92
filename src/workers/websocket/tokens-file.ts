/**
 * Writing a worker's tokens file (Node only: `syft-ts worker --new-token NAME --tokens-file F`).
 * Reading it is `ClientIdentities.parse` (identities.ts) on the file's text.
 */
import { appendFileSync, chmodSync, existsSync, readFileSync } from 'node:fs';
import { ValueError } from '../../errors.js';
import { ClientIdentities } from './identities.js';

/**
 * Appends the line `name:token` to the tokens file at `path` (created readable by its owner only),
 * refusing a name the file already lists and a file that does not parse.
 *
 * @example
 * ```ts
 * appendTokenLine('bob.tokens', `carol:${newToken()}`);
 * ```
 */
export function appendTokenLine(path: string, line: string): void {
  const name = line.slice(0, line.indexOf(':'));
  if (existsSync(path)) {
    const text = readFileSync(path, 'utf8');
    if (text.trim() !== '') {
      if (text.trim().startsWith('{')) throw new ValueError(`the tokens file '${path}' is JSON: add '${name}' to it by hand`);
      const listed = ClientIdentities.parse(text, `the tokens file '${path}'`);
      if (listed.tokenOf(name) !== undefined) throw new ValueError(`the tokens file '${path}' already lists '${name}': remove that line first to replace its token`);
      if (!text.endsWith('\n')) appendFileSync(path, '\n');
    }
  }
  appendFileSync(path, `${line}\n`, { mode: 0o600 });
  chmodSync(path, 0o600);
}
