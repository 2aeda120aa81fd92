/** Hex strings to bytes and back, without Node's `Buffer` (so the same code runs in pages). */
import { ValueError } from '../errors.js';

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** Lower-case hex of `bytes`. @example `toHex(new Uint8Array([1, 255])) // '01ff'` */
export function toHex(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += HEX[bytes[i]!]!;
  return s;
}

/** The bytes a hex string spells; throws a {@link ValueError} for anything else. @example `fromHex('01ff')` */
export function fromHex(hex: string): Uint8Array<ArrayBuffer> {
  if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) throw new ValueError(`not a hex string of whole bytes: '${hex.slice(0, 40)}'`);
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}
