import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

export interface PasswordHasher {
  hash(password: string): Promise<string>;
  verify(password: string, encoded: string): Promise<boolean>;
}

export interface ScryptParams {
  N: number;
  r: number;
  p: number;
  /** Hashes computed at once; the rest queue, so a login storm cannot starve the libuv pool. */
  maxConcurrent: number;
}

const KEY_LEN = 32;

/**
 * scrypt password hashes, encoded `$scrypt$ln=16,r=8,p=1$<salt>$<hash>`
 * (base64, no padding). Work runs on libuv's thread pool: the event loop keeps
 * serving token validation while passwords are being checked.
 */
export function createScryptHasher(params: ScryptParams): PasswordHasher {
  const limit = createLimiter(params.maxConcurrent);

  function derive(password: string, salt: Buffer, N: number, r: number, p: number): Promise<Buffer> {
    return limit(
      () =>
        new Promise<Buffer>((resolve, reject) => {
          scrypt(password.normalize('NFKC'), salt, KEY_LEN, { N, r, p, maxmem: 256 * N * r + 1024 * 1024 }, (err, key) =>
            err ? reject(err) : resolve(key),
          );
        }),
    );
  }

  return {
    async hash(password) {
      const salt = randomBytes(16);
      const key = await derive(password, salt, params.N, params.r, params.p);
      const ln = Math.log2(params.N);
      return `$scrypt$ln=${ln},r=${params.r},p=${params.p}$${b64(salt)}$${b64(key)}`;
    },
    async verify(password, encoded) {
      const m = /^\$scrypt\$ln=(\d+),r=(\d+),p=(\d+)\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/.exec(encoded);
      if (!m) return false;
      const expected = Buffer.from(m[5]!, 'base64');
      const key = await derive(password, Buffer.from(m[4]!, 'base64'), 2 ** Number(m[1]), Number(m[2]), Number(m[3]));
      return key.length === expected.length && timingSafeEqual(key, expected);
    },
  };
}

function b64(buf: Buffer): string {
  return buf.toString('base64').replace(/=+$/, '');
}

/** A tiny semaphore: at most `max` tasks run at once, the rest wait in order. */
export function createLimiter(max: number) {
  let running = 0;
  const waiting: Array<() => void> = [];
  return async function run<T>(task: () => Promise<T>): Promise<T> {
    if (running >= max) await new Promise<void>((resolve) => waiting.push(resolve));
    running++;
    try {
      return await task();
    } finally {
      running--;
      waiting.shift()?.();
    }
  };
}
