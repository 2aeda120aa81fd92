/** Reading a worker's token from a file (Node only: the command line and scripts; pages get theirs as an option). */
import { readFileSync } from 'node:fs';
import { ValueError } from '../../errors.js';
import { checkToken } from './auth.js';

/**
 * Reads a token file: the token is the file's content without surrounding whitespace.
 * Throws a {@link ValueError} saying what is wrong with the file.
 *
 * @example
 * ```ts
 * const token = readTokenFile('bob.token');
 * ```
 */
export function readTokenFile(path: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ValueError(`cannot read the token file '${path}': ${(e as Error).message}`);
  }
  const token = text.trim();
  checkToken(token, `the token file '${path}'`);
  return token;
}
