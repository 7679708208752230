import { Errors } from '../../core/errors.js';
import type { ImageConfig } from '../config.js';
import type { ImageRepo } from '../db/image-repo.js';

const MiB = 1024 * 1024;

/** Counts bytes of one data transfer against a project's limit; `add` throws 413 when over. */
export interface Transfer {
  add(bytes: number): void;
  end(): void;
}

type Kind = 'image_size_total' | 'image_stage_total';

/**
 * Per-project limits, with Glance's unified-limit resources: image_count_total
 * at create, image_count_uploading once the image counts itself, and
 * image_size_total / image_stage_total enforced *while* data flows: every
 * chunk is counted, so no upload can take a project past its limit.
 *
 * Concurrent transfers of one project share a ledger of the bytes they
 * received; the ledger lives until the last of them ends, so bytes of a
 * finished upload may be counted twice (in the database and the ledger) for
 * a while — conservative, never permissive. (Per process: API processes
 * scaled out each keep their own ledger.)
 */
export function createQuotas(config: ImageConfig, images: ImageRepo) {
  const q = config.quotas;
  const ledgers = new Map<string, { active: number; bytes: number }>();

  const over = (owner: string, resource: string, limit: number, usage: number, delta: number) =>
    Errors.overQuota(
      `Project ${owner} is over a limit for [Resource ${resource} is over limit of ${limit} due to current usage ${usage} and delta ${delta}]`,
    );

  const unlimited: Transfer = { add: () => undefined, end: () => undefined };

  async function startTransfer(owner: string | null, kind: Kind, copies = 1): Promise<Transfer> {
    const limitMiB = kind === 'image_size_total' ? q.imageSizeTotalMiB : q.imageStageTotalMiB;
    if (owner === null || limitMiB < 0) return unlimited;
    const u = await images.usage(owner);
    const used = kind === 'image_size_total' ? u.sizeBytes : u.stagingBytes;
    const limit = limitMiB * MiB;
    const key = `${kind}/${owner}`;
    let ledger = ledgers.get(key);
    if (!ledger) ledgers.set(key, (ledger = { active: 0, bytes: 0 }));
    if (used + ledger.bytes >= limit && limit > 0) throw over(owner, kind, limitMiB, Math.floor((used + ledger.bytes) / MiB), 0);
    ledger.active++;
    const l = ledger;
    let ended = false;
    return {
      add(bytes) {
        l.bytes += bytes * copies;
        if (used + l.bytes > limit) throw over(owner, kind, limitMiB, Math.floor(used / MiB), Math.ceil((l.bytes) / MiB));
      },
      end() {
        if (ended) return;
        ended = true;
        if (--l.active === 0 && ledgers.get(key) === l) ledgers.delete(key);
      },
    };
  }

  return {
    async checkCreate(owner: string | null): Promise<void> {
      if (owner === null || q.imageCountTotal < 0) return;
      const u = await images.usage(owner);
      if (u.count + 1 > q.imageCountTotal) throw over(owner, 'image_count_total', q.imageCountTotal, u.count, 1);
    },

    startTransfer,

    /** After an image entered saving/uploading/importing: it counts itself. */
    async checkUploading(owner: string | null): Promise<void> {
      if (owner === null || q.imageCountUploading < 0) return;
      const u = await images.usage(owner);
      if (u.uploading > q.imageCountUploading) throw over(owner, 'image_count_uploading', q.imageCountUploading, u.uploading, 0);
    },
  };
}

export type Quotas = ReturnType<typeof createQuotas>;
