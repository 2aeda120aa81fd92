// A self-signed X.509 certificate for 127.0.0.1 / localhost, made with node:crypto alone (no
// openssl): an EC P-256 key, and a minimal DER encoding of the certificate signed with it.
import { X509Certificate, generateKeyPairSync, sign } from 'node:crypto';

function len(n: number): number[] {
  if (n < 0x80) return [n];
  const bytes: number[] = [];
  for (let x = n; x > 0; x >>= 8) bytes.unshift(x & 0xff);
  return [0x80 | bytes.length, ...bytes];
}

const tlv = (tag: number, ...content: Uint8Array[]): Uint8Array => {
  const body = Buffer.concat(content);
  return Buffer.concat([Buffer.from([tag, ...len(body.length)]), body]);
};
const seq = (...c: Uint8Array[]) => tlv(0x30, ...c);
const set = (...c: Uint8Array[]) => tlv(0x31, ...c);

function oid(dotted: string): Uint8Array {
  const parts = dotted.split('.').map(Number);
  const out = [parts[0]! * 40 + parts[1]!];
  for (const p of parts.slice(2)) {
    const chunk: number[] = [p & 0x7f];
    for (let x = p >> 7; x > 0; x >>= 7) chunk.unshift((x & 0x7f) | 0x80);
    out.push(...chunk);
  }
  return tlv(0x06, Buffer.from(out));
}

const utc = (d: Date) => tlv(0x17, Buffer.from(`${d.toISOString().slice(2, 19).replace(/[-:T]/g, '')}Z`));
const name = (cn: string) => seq(set(seq(oid('2.5.4.3'), tlv(0x0c, Buffer.from(cn)))));

export interface TestCert {
  cert: string;
  key: string;
}

export function selfSignedCert(commonName = 'localhost'): TestCert {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const ecdsaSha256 = seq(oid('1.2.840.10045.4.3.2'));
  const now = Date.now();
  const serial = Buffer.from(crypto.getRandomValues(new Uint8Array(8)));
  // DER integers are minimal and signed: a first byte in 0x40..0x7f keeps the serial positive
  // and never starts it with a padding zero (with 0x00..0x7f, 1 certificate in 256 was illegal).
  serial[0] = (serial[0]! & 0x3f) | 0x40;
  const altNames = seq(tlv(0x87, Buffer.from([127, 0, 0, 1])), tlv(0x82, Buffer.from('localhost')));
  const tbs = seq(
    tlv(0xa0, tlv(0x02, Buffer.from([2]))), // v3
    tlv(0x02, serial),
    ecdsaSha256,
    name(commonName),
    seq(utc(new Date(now - 3_600_000)), utc(new Date(now + 86_400_000))),
    name(commonName),
    publicKey.export({ type: 'spki', format: 'der' }),
    tlv(0xa3, seq(seq(oid('2.5.29.17'), tlv(0x04, altNames)))),
  );
  const signature = sign('sha256', tbs, privateKey);
  const der = seq(tbs, ecdsaSha256, tlv(0x03, Buffer.from([0]), signature));
  const body = Buffer.from(der).toString('base64').replace(/.{64}/g, '$&\n').trimEnd();
  const cert = `-----BEGIN CERTIFICATE-----\n${body}\n-----END CERTIFICATE-----\n`;
  new X509Certificate(cert); // throws if the encoding is wrong
  return { cert, key: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string };
}
