import { writeFile } from 'node:fs/promises';
import type { ComputeClient } from '../service/clients/compute-client.js';
import type { ImageClient, ImageRecord } from '../service/clients/image-client.js';

/** An image service in memory: images with content, created images and what was uploaded to them. */
export interface FakeImages extends ImageClient {
  images: Map<string, ImageRecord & { content?: Buffer }>;
  uploads: Map<string, number>;
}

export function createFakeImages(): FakeImages {
  const images = new Map<string, ImageRecord & { content?: Buffer }>();
  const uploads = new Map<string, number>();
  let n = 0;
  return {
    images,
    uploads,
    async get(id) {
      const i = images.get(id);
      if (!i) return undefined;
      const { content: _c, ...rest } = i;
      return rest;
    },
    async download(id, path) {
      const i = images.get(id);
      if (!i) throw new Error(`no image ${id}`);
      await writeFile(path, i.content ?? Buffer.alloc(0));
    },
    async create(_token, body) {
      const id = `00000000-0000-4000-8000-${String(++n).padStart(12, '0')}`;
      const rec: ImageRecord = {
        id, name: String(body['name'] ?? ''), status: 'queued', disk_format: String(body['disk_format'] ?? 'raw'),
        container_format: String(body['container_format'] ?? 'bare'), size: null, virtual_size: null, min_disk: 0, min_ram: 0, checksum: null,
      };
      images.set(id, rec);
      return rec;
    },
    async upload(id, path) {
      const { stat } = await import('node:fs/promises');
      uploads.set(id, (await stat(path)).size);
      const i = images.get(id);
      if (i) i.status = 'active';
    },
    async delete(id) {
      images.delete(id);
    },
  };
}

/** Compute as the volume service sees it: which servers hold which attachments, and the events it was sent. */
export interface FakeCompute extends ComputeClient {
  /** `${serverId}/${volumeId}` → Cinder attachment id compute holds. */
  attachments: Map<string, string>;
  events: Array<{ serverId: string; volumeId: string }>;
}

export function createFakeCompute(): FakeCompute {
  const attachments = new Map<string, string>();
  const events: Array<{ serverId: string; volumeId: string }> = [];
  return {
    attachments,
    events,
    async volumeAttachment(serverId, volumeId) {
      const id = attachments.get(`${serverId}/${volumeId}`);
      return id === undefined ? null : { attachmentId: id };
    },
    async volumeExtended(serverId, volumeId) {
      events.push({ serverId, volumeId });
    },
  };
}
