import { Transform, type Readable, type TransformCallback, type Writable } from 'node:stream';
import { finished, pipeline } from 'node:stream/promises';
import { ApiError, Errors, isApiError } from '../../core/errors.js';
import { HEAD_BYTES, formatMismatch, inspectImage, sizeApplies, type Inspection } from './format-inspector.js';
import type { Transfer } from './quotas.js';
import { createHashers, type HashJob, type Hashers } from './hash-workers.js';

export const HASH_ALGO = 'sha512';
export const HASH_ALGORITHMS = ['md5', HASH_ALGO];

/** Hashing on the calling thread (when no worker threads are given). */
const inlineHashers: Hashers = createHashers.inline(HASH_ALGORITHMS);

export interface FormatCheck {
  diskFormat: string | null;
  containerFormat: string | null;
  /** Refuse unsafe images and data recognisably of another format. */
  reject: boolean;
  /** Also refuse data that is not recognisably the claimed structured format. */
  strict: boolean;
}

export interface PumpOptions {
  /** Bytes beyond this are refused with 413 (image_size_cap). */
  maxBytes: number;
  /** Quota accounting for the bytes, if any. */
  transfer?: Transfer | undefined;
  /** Compute checksum (md5) and os_hash_value. */
  hashes: boolean;
  /** Worker threads for the hashes (inline hashing without). */
  hashers?: Hashers | undefined;
  /** Inspect the format (virtual_size, safety). */
  format?: FormatCheck | undefined;
  /** Abort when no data arrives for this long (a stalled client must not hold an image in `saving`). */
  idleTimeoutMs?: number | undefined;
}

export interface PumpResult {
  size: number;
  checksum: string | null;
  hashValue: string | null;
  inspection: Inspection | null;
}

/**
 * Streams image data from `source` to `sink` without holding it in memory
 * (only the first HEAD_BYTES, for format inspection), counting and hashing
 * as it goes. Refuses data that is too large, over quota, or unsafe as soon
 * as that is known. Errors come out as ApiErrors: 413 for size/quota/disk
 * full, 400 for unsafe data or an interrupted body.
 */
export async function pumpData(source: Readable, sink: Writable, options: PumpOptions): Promise<PumpResult> {
  const meter = new Meter(options);
  // The source is piped, not part of the pipeline: a failure must not destroy it, because
  // for an upload it is the request, and its connection still has to carry the 4xx answer.
  source.pipe(meter);
  void finished(source).catch((err: unknown) => meter.destroy(err as Error));
  let idle: NodeJS.Timeout | undefined;
  const ms = options.idleTimeoutMs;
  const arm = () => {
    clearTimeout(idle);
    idle = setTimeout(() => {
      meter.failure = Errors.badRequest(`Image data stopped arriving for ${Math.round(ms! / 1000)} s; the transfer was abandoned.`);
      meter.destroy(meter.failure);
    }, ms);
  };
  if (ms) {
    source.on('data', arm);
    arm();
  }
  try {
    await pipeline(meter, sink);
  } catch (err) {
    source.unpipe(meter);
    meter.abort();
    throw classify(err, meter);
  } finally {
    source.off('data', arm);
    clearTimeout(idle);
  }
  return meter.result();
}

class Meter extends Transform {
  size = 0;
  private readonly hash: HashJob | null;
  private head: Buffer | null;
  private headLength = 0;
  private inspection: Inspection | null = null;
  failure: ApiError | null = null;

  constructor(private readonly options: PumpOptions) {
    super({ readableHighWaterMark: 1024 * 1024, writableHighWaterMark: 1024 * 1024 });
    this.hash = options.hashes ? (options.hashers ?? inlineHashers).start() : null;
    this.head = options.format ? Buffer.allocUnsafe(HEAD_BYTES) : null;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    try {
      this.size += chunk.length;
      if (this.size > this.options.maxBytes) {
        throw Errors.payloadTooLarge(`Denying attempt to upload image larger than ${this.options.maxBytes} bytes.`);
      }
      this.options.transfer?.add(chunk.length);
      if (this.head && this.headLength < HEAD_BYTES) {
        const n = chunk.copy(this.head, this.headLength, 0, Math.min(chunk.length, HEAD_BYTES - this.headLength));
        this.headLength += n;
        if (this.headLength === HEAD_BYTES) this.inspect();
      }
      const wait = this.hash?.update(chunk);
      if (wait) wait.then(() => done(null, chunk), (err: unknown) => done(err as Error));
      else done(null, chunk);
    } catch (err) {
      this.failure = isApiError(err) ? err : Errors.internal();
      done(this.failure);
    }
  }

  override _flush(done: TransformCallback): void {
    try {
      if (this.head && !this.inspection) this.inspect();
      done();
    } catch (err) {
      this.failure = isApiError(err) ? err : Errors.internal();
      done(this.failure);
    }
  }

  /** Inspects the captured head and frees it; throws 400 when the data must be refused. */
  private inspect(): void {
    const format = this.options.format!;
    const head = this.head!.subarray(0, this.headLength);
    this.inspection = inspectImage(head, this.size);
    this.head = null;
    if (this.inspection.format === 'raw' && this.headLength === HEAD_BYTES) {
      // Raw size is only known at the end.
      this.inspection = { format: 'raw', virtualSize: null };
    }
    if (!format.reject) return;
    if (this.inspection.unsafe) throw Errors.badRequest(`Image data refused: ${this.inspection.unsafe}.`);
    if (format.diskFormat && (format.containerFormat === 'bare' || format.containerFormat === null)) {
      const mismatch = formatMismatch(format.diskFormat, this.inspection, format.strict);
      if (mismatch) throw Errors.badRequest(mismatch);
    }
  }

  abort(): void {
    this.hash?.abort();
  }

  async result(): Promise<PumpResult> {
    const digests = this.hash ? await this.hash.digest() : null;
    let inspection = this.inspection;
    if (inspection?.format === 'raw') inspection = { format: 'raw', virtualSize: this.size > 0 ? this.size : null };
    // Like Glance, the virtual size is only believed when the data is what disk_format says.
    if (inspection && !sizeApplies(this.options.format?.diskFormat ?? null, inspection)) inspection = { ...inspection, virtualSize: null };
    return {
      size: this.size,
      checksum: digests?.['md5'] ?? null,
      hashValue: digests?.[HASH_ALGO] ?? null,
      inspection,
    };
  }
}

function classify(err: unknown, meter: Meter): ApiError {
  if (meter.failure) return meter.failure;
  if (isApiError(err)) return err;
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOSPC' || code === 'EDQUOT') return Errors.payloadTooLarge('Image storage media is full.');
  if (code === 'ECONNRESET' || code === 'ERR_STREAM_PREMATURE_CLOSE' || (err as Error).message === 'aborted') {
    return Errors.badRequest(`Image data is incomplete: the transfer ended after ${meter.size} bytes.`);
  }
  return Errors.internal(undefined, { cause: err });
}
