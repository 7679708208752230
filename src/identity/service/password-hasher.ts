import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { setPriority } from 'node:os';

export interface PasswordHasher {
  hash(password: string): Promise<string>;
  /** `signal`: the caller went away; a check still waiting for its turn is skipped (rejects). */
  verify(password: string, encoded: string, options?: { signal?: AbortSignal | undefined; background?: boolean }): Promise<boolean>;
  /** Whether a stored hash uses other parameters than the configured ones (rehash after a good login). */
  needsRehash(encoded: string): boolean;
  /** Refuses further work (at shutdown). */
  close(): Promise<void>;
}

export interface ScryptParams {
  N: number;
  r: number;
  p: number;
  /** Hashes computed at once; the rest queue, so a login storm cannot take every thread of the pool. */
  maxConcurrent: number;
  /** Nice value of libuv's pool threads (Linux): above 0 they yield the CPU to the event loop. */
  niceness?: number;
}

const KEY_LEN = 32;
const ENCODED_RE = /^\$scrypt\$ln=(\d+),r=(\d+),p=(\d+)\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/;

/**
 * scrypt password hashes, encoded `$scrypt$ln=15,r=8,p=2$<salt>$<hash>`
 * (base64, no padding), computed on libuv's thread pool at a lower priority so
 * that the event loop keeps serving token validation while passwords are checked.
 */
export function createScryptHasher(params: ScryptParams): PasswordHasher {
  const limit = createLimiter(params.maxConcurrent);
  // In the background: the first checks (bootstrap, first login) must not wait for it.
  void reniceThreadPool(params.niceness ?? 10).catch(() => 0);
  let closed = false;
  const derive = async (password: string, salt: Buffer, N: number, r: number, p: number, signal?: AbortSignal, background = false): Promise<Buffer> => {
    return limit(() => {
      if (closed) return Promise.reject(new Error('password hasher is closed'));
      return new Promise<Buffer>((resolve, reject) => {
        const maxmem = 128 * N * r + 128 * r * p + 1024 * 1024;
        scrypt(password.normalize('NFKC'), salt, KEY_LEN, { N, r, p, maxmem }, (err, key) => (err ? reject(err) : resolve(key)));
      });
    }, signal, background);
  };
  const ln = Math.log2(params.N);

  return {
    async hash(password) {
      const salt = randomBytes(16);
      const key = await derive(password, salt, params.N, params.r, params.p);
      return `$scrypt$ln=${ln},r=${params.r},p=${params.p}$${b64(salt)}$${b64(key)}`;
    },
    async verify(password, encoded, options = {}) {
      const m = ENCODED_RE.exec(encoded);
      if (!m) return false;
      // Refuse parameters that would make a stored hash a denial of service.
      if (Number(m[1]) > 22 || Number(m[2]) > 32 || Number(m[3]) > 64) return false;
      const expected = Buffer.from(m[5]!, 'base64');
      const key = await derive(password, Buffer.from(m[4]!, 'base64'), 2 ** Number(m[1]), Number(m[2]), Number(m[3]), options.signal, options.background);
      return key.length === expected.length && timingSafeEqual(key, expected);
    },
    needsRehash(encoded) {
      const m = ENCODED_RE.exec(encoded);
      return !m || Number(m[1]) !== ln || Number(m[2]) !== params.r || Number(m[3]) !== params.p;
    },
    async close() {
      closed = true;
    },
  };
}

/**
 * Lowers the priority of libuv's thread pool, where scrypt runs, so that the
 * event loop (token validation) wins the CPU while passwords are checked at
 * full load. The pool threads are found by what they do: a burst of tiny
 * scrypt jobs keeps every pool thread busy for a moment, and the threads
 * whose CPU time (schedstat, in ns) grew are the pool. On Linux
 * setpriority(PRIO_PROCESS, tid) applies to that one thread. (Dedicated
 * worker_threads would be simpler to renice but cost a V8 isolate, ~15 MB
 * resident, each.) Returns the number of threads reniced.
 */
export async function reniceThreadPool(niceness: number): Promise<number> {
  if (niceness <= 0 || process.platform !== 'linux') return 0;
  const cpuNs = (): Map<string, number> => {
    const out = new Map<string, number>();
    let tids: string[] = [];
    try {
      tids = readdirSync('/proc/self/task');
    } catch {
      return out;
    }
    for (const tid of tids) {
      try {
        out.set(tid, Number(readFileSync(`/proc/self/task/${tid}/schedstat`, 'utf8').split(' ')[0]));
      } catch {
        // the thread is gone
      }
    }
    return out;
  };
  const before = cpuNs();
  const tiny = () => new Promise<void>((resolve) => scrypt('calibrate', 'pool', 16, { N: 1024, r: 8, p: 1 }, () => resolve()));
  await Promise.all(Array.from({ length: 16 }, tiny));
  let n = 0;
  for (const [tid, ns] of cpuNs()) {
    if (Number(tid) === process.pid || ns - (before.get(tid) ?? ns) < 1_000_000) continue;
    try {
      setPriority(Number(tid), niceness);
      n++;
    } catch {
      // not permitted, or gone: that thread keeps the default priority
    }
  }
  return n;
}

function b64(buf: Buffer): string {
  return buf.toString('base64').replace(/=+$/, '');
}

/**
 * A tiny semaphore: at most `max` tasks run at once, the rest wait in order,
 * background tasks behind all others. A waiting task whose signal aborts is
 * dropped (a login flood of abandoned requests must not keep the CPU busy).
 */
export function createLimiter(max: number) {
  let running = 0;
  const waiting: Array<() => void> = [];
  const waitingBackground: Array<() => void> = [];
  return async function run<T>(task: () => Promise<T>, signal?: AbortSignal, background = false): Promise<T> {
    if (running >= max) {
      // The slot is handed over by the task that finishes: `running` already counts us then.
      await new Promise<void>((resolve) => (background ? waitingBackground : waiting).push(resolve));
    } else running++;
    try {
      if (signal?.aborted) throw Object.assign(new Error('the request was abandoned'), { name: 'AbortError' });
      return await task();
    } finally {
      const next = waiting.shift() ?? waitingBackground.shift();
      if (next) next();
      else running--;
    }
  };
}
