import { createHash } from 'node:crypto';
import { Worker } from 'node:worker_threads';

/**
 * Image checksums (md5 for `checksum`, sha512 for `os_hash_value`) cost more
 * CPU than writing the bytes: each runs on its own worker thread, in
 * parallel with each other and with the network and disk I/O on the main
 * thread. Data reaches the workers through shared memory (one copy into a
 * SharedArrayBuffer slot, read by both); each upload has a bounded number
 * of slots, so a slow hasher applies backpressure instead of using memory.
 */

const SLOT_BYTES = 2 * 1024 * 1024;
const SLOTS_PER_JOB = 4;

/** The worker's code, plain JavaScript so it runs the same from sources (tsx) and from dist. */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const jobs = new Map();
parentPort.on('message', (m) => {
  if (m.t === 's') jobs.set(m.job, createHash(workerData.algo));
  else if (m.t === 'd') {
    const h = jobs.get(m.job);
    if (h) h.update(new Uint8Array(m.sab, 0, m.len));
    parentPort.postMessage({ t: 'a', job: m.job, slot: m.slot });
  } else if (m.t === 'e') {
    const h = jobs.get(m.job);
    jobs.delete(m.job);
    parentPort.postMessage({ t: 'h', job: m.job, hex: h ? h.digest('hex') : null });
  } else if (m.t === 'x') jobs.delete(m.job);
});
`;

export interface HashJob {
  /** Feeds a chunk; returns a promise when the caller must wait (all slots busy). */
  update(chunk: Buffer): Promise<void> | undefined;
  /** Hex digests by algorithm, once every byte is hashed. */
  digest(): Promise<Record<string, string>>;
  abort(): void;
}

export interface Hashers {
  start(): HashJob;
  close(): Promise<void>;
}

interface Slot {
  sab: SharedArrayBuffer;
  view: Buffer;
  /** Workers still reading this slot. */
  pending: number;
}

type WorkerMessage = { job: number; t: string; slot?: number; hex?: string | null };

interface JobListener {
  message(msg: WorkerMessage, algo: string): void;
  /** A worker died: the job cannot finish. */
  fail(err: Error): void;
}

/** Worker-thread hashers for the given algorithms (one thread each, shared by all uploads). */
export function createHashers(algorithms: string[]): Hashers {
  let workers: Worker[] | undefined;
  let closing = false;
  let nextJob = 1;
  const listeners = new Map<number, JobListener>();

  /** A worker that errors or exits takes its jobs down with it; the next job starts fresh workers. */
  function lost(err: Error): void {
    const ws = workers;
    workers = undefined;
    for (const w of ws ?? []) void w.terminate();
    for (const l of [...listeners.values()]) l.fail(err);
    listeners.clear();
  }

  function ensureWorkers(): Worker[] | undefined {
    if (workers || closing) return workers;
    try {
      const ws = algorithms.map((algo) => {
        const w = new Worker(WORKER_SOURCE, { eval: true, workerData: { algo } });
        w.unref();
        w.on('message', (msg: WorkerMessage) => listeners.get(msg.job)?.message(msg, algo));
        w.on('error', (err) => workers === ws && lost(err));
        w.on('exit', (code) => workers === ws && !closing && lost(new Error(`hash worker exited (${code})`)));
        return w;
      });
      workers = ws;
    } catch {
      workers = undefined;
    }
    return workers;
  }

  return {
    start(): HashJob {
      const ws = ensureWorkers();
      if (!ws) return inlineJob(algorithms);
      const job = nextJob++;
      const slots: Slot[] = [];
      let current: Slot | undefined;
      let fill = 0;
      let waiting: (() => void) | undefined;
      let failure: Error | undefined;
      const digests: Record<string, string> = {};
      let finish: ((d: Record<string, string>) => void) | undefined;
      let failed: ((e: Error) => void) | undefined;

      const wake = () => {
        const w = waiting;
        waiting = undefined;
        w?.();
      };
      listeners.set(job, {
        message(msg, algo) {
          if (msg.t === 'a') {
            const slot = slots[msg.slot!]!;
            if (--slot.pending === 0) wake();
          } else if (msg.t === 'h') {
            if (msg.hex) digests[algo] = msg.hex;
            if (Object.keys(digests).length === algorithms.length) {
              listeners.delete(job);
              finish?.(digests);
            } else if (!msg.hex) {
              this.fail(new Error('hash worker lost the job'));
            }
          }
        },
        fail(err) {
          failure = err;
          listeners.delete(job);
          wake();
          failed?.(err);
        },
      });
      for (const w of ws) w.postMessage({ t: 's', job });

      const freeSlot = (): Slot | undefined => {
        const idle = slots.find((s) => s.pending === 0);
        if (idle) return idle;
        if (slots.length < SLOTS_PER_JOB) {
          const sab = new SharedArrayBuffer(SLOT_BYTES);
          const s: Slot = { sab, view: Buffer.from(sab), pending: 0 };
          slots.push(s);
          return s;
        }
        return undefined;
      };
      const dispatch = () => {
        if (!current || fill === 0) return;
        current.pending = ws.length;
        const slot = slots.indexOf(current);
        for (const w of ws) w.postMessage({ t: 'd', job, sab: current.sab, len: fill, slot });
        current = undefined;
        fill = 0;
      };

      /** Copies `chunk` into slots, dispatching full ones; waits for a free slot when all are busy. */
      const feed = async (chunk: Buffer): Promise<void> => {
        let offset = 0;
        while (offset < chunk.length) {
          if (failure) throw failure;
          if (!current) {
            current = freeSlot();
            while (!current) {
              await new Promise<void>((r) => (waiting = r));
              if (failure) throw failure;
              current = freeSlot();
            }
          }
          const n = chunk.copy(current.view, fill, offset);
          fill += n;
          offset += n;
          if (fill === SLOT_BYTES) dispatch();
        }
      };

      return {
        update(chunk) {
          // Fast path: the chunk fits in the current slot.
          if (!failure && current && fill + chunk.length < SLOT_BYTES) {
            chunk.copy(current.view, fill);
            fill += chunk.length;
            return undefined;
          }
          return feed(chunk);
        },
        digest() {
          if (failure) return Promise.reject(failure);
          dispatch();
          return new Promise((resolve, reject) => {
            finish = resolve;
            failed = reject;
            for (const w of ws) w.postMessage({ t: 'e', job });
          });
        },
        abort() {
          listeners.delete(job);
          if (workers === ws) for (const w of ws) w.postMessage({ t: 'x', job });
        },
      };
    },
    async close() {
      closing = true;
      const ws = workers;
      workers = undefined;
      if (ws) await Promise.all(ws.map((w) => w.terminate()));
    },
  };
}

function inlineJob(algorithms: string[]): HashJob {
  const hashes = algorithms.map((a) => [a, createHash(a)] as const);
  return {
    update(chunk) {
      for (const [, h] of hashes) h.update(chunk);
      return undefined;
    },
    async digest() {
      return Object.fromEntries(hashes.map(([a, h]) => [a, h.digest('hex')]));
    },
    abort() {},
  };
}

/** Hashers that hash on the calling thread (small jobs, tools, tests). */
createHashers.inline = (algorithms: string[]): Hashers => ({
  start: () => inlineJob(algorithms),
  close: async () => undefined,
});
