import { createReadStream, createWriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import type { ServiceSession } from '../../../core/clients/service-auth.js';
import { Errors } from '../../../core/errors.js';

/** What the volume service reads of a Glance image. */
export interface ImageRecord {
  id: string;
  name: string | null;
  status: string;
  disk_format: string | null;
  container_format: string | null;
  size: number | null;
  virtual_size: number | null;
  min_disk: number;
  min_ram: number;
  checksum: string | null;
  visibility?: string;
  protected?: boolean;
  owner?: string | null;
  updated_at?: string;
  /** Every other key of the image (custom properties). */
  [key: string]: unknown;
}

/** The image service as the volume service uses it (Glance v2 over HTTP; a fake in tests). */
export interface ImageClient {
  /** The image as `userToken` sees it, or undefined when it does not exist for them. */
  get(imageId: string, userToken?: string): Promise<ImageRecord | undefined>;
  download(imageId: string, path: string): Promise<void>;
  /** Creates an image record owned by the user's project. */
  create(userToken: string, body: Record<string, unknown>): Promise<ImageRecord>;
  upload(imageId: string, path: string): Promise<void>;
  delete(imageId: string): Promise<void>;
}

/** Glance v2 through the service session (the user's token where the owner matters, the service's otherwise). */
export function createHttpImageClient(session: ServiceSession): ImageClient {
  const v2 = async (path: string, init: Parameters<ServiceSession['request']>[2] = {}) => {
    // Glance's catalog URL usually has no version; tolerate one.
    const base = (await session.endpoint('image')).replace(/\/v2(\.\d+)?$/, '');
    const serviceToken = await session.token();
    const headers = new Headers(init.headers);
    headers.set('x-auth-token', init.userToken ?? serviceToken);
    if (init.userToken) headers.set('x-service-token', serviceToken);
    let body = init.body;
    if (init.json !== undefined) {
      headers.set('content-type', 'application/json');
      body = JSON.stringify(init.json);
    }
    const { userToken: _u, json: _j, ...rest } = init;
    return fetch(`${base}/v2${path}`, { ...rest, headers, body: body ?? null } as RequestInit);
  };
  const fail = async (what: string, res: Response) => {
    const text = await res.text().catch(() => '');
    return Errors.badRequest(`${what}: image service answered ${res.status} ${text.slice(0, 200)}`);
  };

  return {
    async get(imageId, userToken) {
      const res = await v2(`/images/${encodeURIComponent(imageId)}`, userToken ? { userToken } : {});
      if (res.status === 404) return undefined;
      if (!res.ok) throw await fail(`Could not read image ${imageId}`, res);
      return (await res.json()) as ImageRecord;
    },
    async download(imageId, path) {
      const res = await v2(`/images/${encodeURIComponent(imageId)}/file`);
      if (!res.ok || !res.body) throw await fail(`Could not download image ${imageId}`, res);
      await pipeline(Readable.fromWeb(res.body as unknown as WebReadableStream), createWriteStream(path));
    },
    async create(userToken, body) {
      const res = await v2('/images', { method: 'POST', userToken, json: body });
      if (res.status !== 201) throw await fail('Could not create the image', res);
      return (await res.json()) as ImageRecord;
    },
    async upload(imageId, path) {
      const { size } = await stat(path);
      const res = await v2(`/images/${encodeURIComponent(imageId)}/file`, {
        method: 'PUT',
        headers: { 'content-type': 'application/octet-stream', 'content-length': String(size) },
        body: Readable.toWeb(createReadStream(path)) as unknown as RequestInit["body"],
        duplex: 'half',
      } as RequestInit);
      if (!res.ok) throw await fail(`Could not upload image ${imageId}`, res);
    },
    async delete(imageId) {
      const res = await v2(`/images/${encodeURIComponent(imageId)}`, { method: 'DELETE' });
      if (!res.ok && res.status !== 404) throw await fail(`Could not delete image ${imageId}`, res);
    },
  };
}
