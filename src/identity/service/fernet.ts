import { createCipheriv, createDecipheriv, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FernetKey } from './fernet-keys.js';

/** The Fernet spec: 0x80 | timestamp (u64 BE) | IV | AES-128-CBC(payload) | HMAC-SHA256. */
const VERSION = 0x80;

export function fernetEncrypt(key: FernetKey, payload: Buffer, now = Date.now()): string {
  const iv = randomBytes(16);
  const cipher = createCipheriv('aes-128-cbc', key.encryption, iv);
  const ciphertext = Buffer.concat([cipher.update(payload), cipher.final()]);
  const header = Buffer.alloc(9);
  header[0] = VERSION;
  header.writeBigUInt64BE(BigInt(Math.floor(now / 1000)), 1);
  const signed = Buffer.concat([header, iv, ciphertext]);
  const mac = createHmac('sha256', key.signing).update(signed).digest();
  // Keystone strips the base64 padding from its tokens; so do we.
  return Buffer.concat([signed, mac]).toString('base64url');
}

/** Returns the payload, or undefined when no key authenticates the token. */
export function fernetDecrypt(keys: FernetKey[], token: string): Buffer | undefined {
  if (token.length < 80 || token.length > 4096 || !/^[A-Za-z0-9_\-]+=*$/.test(token)) return undefined;
  const raw = Buffer.from(token.replace(/=+$/, ''), 'base64url');
  if (raw.length < 1 + 8 + 16 + 16 + 32 || raw[0] !== VERSION || (raw.length - 57) % 16 !== 0) return undefined;
  const signed = raw.subarray(0, raw.length - 32);
  const mac = raw.subarray(raw.length - 32);
  for (const key of keys) {
    const expected = createHmac('sha256', key.signing).update(signed).digest();
    if (!timingSafeEqual(expected, mac)) continue;
    const iv = raw.subarray(9, 25);
    const decipher = createDecipheriv('aes-128-cbc', key.encryption, iv);
    try {
      return Buffer.concat([decipher.update(raw.subarray(25, raw.length - 32)), decipher.final()]);
    } catch {
      return undefined;
    }
  }
  return undefined;
}
