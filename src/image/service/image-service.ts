import { Errors } from '../../core/errors.js';
import { isUniqueViolation } from '../../core/db/database.js';
import { newUuid } from '../../core/ids.js';
import type { Log } from '../../core/log.js';
import type { ImageConfig } from '../config.js';
import type { ImageRepo } from '../db/image-repo.js';
import type { ImageRow } from '../db/tables.js';
import type { StoreRegistry } from '../stores/registry.js';
import type { Access } from './access.js';
import type { Caller } from './caller.js';
import { BASE_ATTRIBUTES, parseCreate } from './image-schema.js';
import type { PatchChange } from './json-patch.js';
import type { ImagePolicy } from './policy.js';
import type { Quotas } from './quotas.js';
import { toStoredTime } from './time.js';

export interface ImageServiceDeps {
  config: ImageConfig;
  log: Log;
  images: ImageRepo;
  access: Access;
  quotas: Quotas;
  policy: ImagePolicy;
  stores: StoreRegistry;
}

/** Image records: create, update (JSON patch), delete, (de)activate and tags, with Glance's rules. */
export function createImageService(deps: ImageServiceDeps) {
  const { config, images, access, quotas, policy, stores, log } = deps;

  function checkVisibilityChange(caller: Caller, visibility: unknown, target: ImageRow | null): void {
    if (visibility === 'public') policy.authorize(caller, 'publicize_image', target);
    if (visibility === 'community') policy.authorize(caller, 'communitize_image', target);
  }

  function checkLegacyQuotas(properties: Record<string, string>, tags: string[]): void {
    if (config.imagePropertyQuota >= 0 && Object.keys(properties).length > config.imagePropertyQuota) {
      throw Errors.overQuota(`Attempted: ${Object.keys(properties).length}, Maximum: ${config.imagePropertyQuota}`);
    }
    if (config.imageTagQuota >= 0 && tags.length > config.imageTagQuota) {
      throw Errors.overQuota(`Maximum number of tags exceeded: attempted ${tags.length}, maximum ${config.imageTagQuota}`);
    }
  }

  return {
    async create(caller: Caller, body: unknown): Promise<ImageRow> {
      policy.authorize(caller, 'add_image', null);
      const req = parseCreate(body);
      const owner = req.base.owner !== undefined ? req.base.owner : caller.projectId;
      if (req.base.owner !== undefined && req.base.owner !== caller.projectId && !caller.admin) {
        throw Errors.forbidden(`You are not permitted to create images owned by '${String(req.base.owner)}'.`);
      }
      checkVisibilityChange(caller, req.base.visibility, null);
      checkLegacyQuotas(req.properties, req.tags);
      await quotas.checkCreate(owner);
      const id = req.id ?? newUuid();
      if (req.id && (await images.get(req.id, { includeDeleted: true }))) throw Errors.conflict(`Image ID ${req.id} already exists!`);
      const now = toStoredTime();
      const row: ImageRow = {
        id,
        name: req.base.name ?? null,
        status: 'queued',
        visibility: req.base.visibility ?? 'shared',
        protected: req.base.protected ? 1 : 0,
        os_hidden: req.base.os_hidden ? 1 : 0,
        checksum: null,
        os_hash_algo: null,
        os_hash_value: null,
        size: null,
        virtual_size: null,
        owner: owner ?? null,
        disk_format: req.base.disk_format ?? null,
        container_format: req.base.container_format ?? null,
        min_disk: req.base.min_disk ?? 0,
        min_ram: req.base.min_ram ?? 0,
        created_at: now,
        updated_at: now,
        deleted: 0,
        deleted_at: null,
      };
      try {
        await images.insert(row, req.properties, req.tags);
      } catch (err) {
        if (isUniqueViolation(err)) throw Errors.conflict(`Image ID ${id} already exists!`);
        throw err;
      }
      return row;
    },

    /** Applies JSON-patch changes in order and saves them at once. */
    async update(caller: Caller, id: string, changes: PatchChange[]): Promise<ImageRow> {
      const image = await access.owned(id, caller);
      policy.authorize(caller, 'modify_image', image);
      const next: ImageRow = { ...image };
      // Snapshots taken once: what this PATCH changes is the difference from them.
      const before = await images.properties(id);
      const beforeTags = await images.tags(id);
      const props = { ...before };
      let tags = [...beforeTags];

      const setBase = (key: string, value: unknown) => {
        if (key === 'owner' && !caller.admin) throw Errors.forbidden("Owner can't be updated by non admin.");
        if (key === 'visibility') checkVisibilityChange(caller, value, image);
        if ((key === 'disk_format' || key === 'container_format') && !['queued', 'importing'].includes(image.status)) {
          throw Errors.forbidden(`Attribute ${key} can be only replaced for a queued image.`);
        }
        if (key === 'tags') tags = [...new Set(value as string[])];
        else if (key === 'protected' || key === 'os_hidden') (next as unknown as Record<string, unknown>)[key] = value ? 1 : 0;
        else (next as unknown as Record<string, unknown>)[key] = value;
      };

      for (const change of changes) {
        const key = change.path[0]!;
        if (key === 'locations') {
          if (change.op === 'replace' && Array.isArray(change.value) && change.value.length === 0) {
            throw Errors.forbidden('Cannot set locations to empty list.');
          }
          throw Errors.forbidden("It's not allowed to add locations if locations are invisible.");
        }
        const isBase = BASE_ATTRIBUTES.has(key);
        switch (change.op) {
          case 'replace':
            if (isBase) setBase(key, change.value);
            else if (key in props) props[key] = change.value as string;
            else throw Errors.conflict(`Property ${key} does not exist.`);
            break;
          case 'add':
            if (change.draft === 4 && (isBase || key in props)) throw Errors.conflict(`Property ${key} already present.`);
            if (isBase) setBase(key, change.value);
            else props[key] = change.value as string;
            break;
          case 'remove':
            if (isBase) throw Errors.forbidden(`Property ${key} may not be removed.`);
            if (!(key in props)) throw Errors.conflict(`Property ${key} does not exist.`);
            delete props[key];
            break;
        }
      }
      if (!changes.length) return image;
      checkLegacyQuotas(props, tags);
      const columns: Partial<ImageRow> = {};
      for (const [k, v] of Object.entries(next) as Array<[keyof ImageRow, unknown]>) {
        if (v !== image[k]) (columns as Record<string, unknown>)[k] = v;
      }
      const formatChange = 'disk_format' in columns || 'container_format' in columns;
      columns.updated_at = toStoredTime();
      const saved = await images.save(
        id,
        columns,
        {
          set: Object.fromEntries(Object.entries(props).filter(([k, v]) => before[k] !== v)),
          remove: Object.keys(before).filter((k) => !(k in props)),
        },
        { add: tags.filter((t) => !beforeTags.includes(t)), remove: beforeTags.filter((t) => !tags.includes(t)) },
        formatChange ? ['queued', 'importing'] : undefined,
      );
      if (!saved) {
        const now = await images.get(id);
        if (!now) throw Errors.notFoundMessage(`No image found with ID ${id}`);
        throw Errors.forbidden('Attribute disk_format can be only replaced for a queued image.');
      }
      return (await images.get(id)) ?? { ...next, ...columns };
    },

    async delete(caller: Caller, id: string): Promise<void> {
      const image = await images.get(id);
      if (!image || !(await access.canSee(image, caller))) throw Errors.notFoundMessage(`Failed to find image ${id} to delete`);
      if (!caller.admin && !access.isOwner(image, caller)) throw Errors.forbidden('You do not own this image');
      policy.authorize(caller, 'delete_image', image);
      if (image.protected) throw Errors.forbidden(`Image ${id} is protected and cannot be deleted.`);
      const held = await images.locations(id);
      if (!(await images.markDeleted(id, toStoredTime()))) throw Errors.notFoundMessage(`Failed to find image ${id} to delete`);
      // Data goes after the record (side effects after commit); a crash here leaves
      // orphan files that the start-up reconciliation removes.
      for (const storeId of held) await stores.get(storeId)?.delete(id).catch((err: unknown) => log.warn({ err, id, storeId }, 'could not delete image data'));
      await stores.staging.delete(id).catch(() => undefined);
    },

    async deactivate(caller: Caller, id: string): Promise<void> {
      const image = await access.owned(id, caller);
      policy.authorize(caller, 'deactivate', image);
      if (image.status === 'deactivated') return;
      if (image.status !== 'active') throw Errors.forbidden(`Not allowed to deactivate image in status '${image.status}'`);
      if (!(await images.update(id, { status: 'deactivated', updated_at: toStoredTime() }, ['active']))) {
        throw Errors.conflict(`Image ${id} changed status meanwhile; try again.`);
      }
    },

    async reactivate(caller: Caller, id: string): Promise<void> {
      const image = await access.owned(id, caller);
      policy.authorize(caller, 'reactivate', image);
      if (image.status === 'active') return;
      if (image.status !== 'deactivated') throw Errors.forbidden(`Not allowed to reactivate image in status '${image.status}'`);
      if (!(await images.update(id, { status: 'active', updated_at: toStoredTime() }, ['deactivated']))) {
        throw Errors.conflict(`Image ${id} changed status meanwhile; try again.`);
      }
    },

    async addTag(caller: Caller, id: string, tag: string): Promise<void> {
      const image = await access.owned(id, caller);
      policy.authorize(caller, 'modify_image', image);
      if (tag.length > 255) throw Errors.badRequest(`Provided object does not match schema 'image': tag '${tag.slice(0, 40)}…' is too long`);
      const tags = await images.tags(id);
      if (!tags.includes(tag) && config.imageTagQuota >= 0 && tags.length + 1 > config.imageTagQuota) {
        throw Errors.overQuota(`Maximum number of tags exceeded: attempted ${tags.length + 1}, maximum ${config.imageTagQuota}`);
      }
      await images.addTag(id, tag);
      await images.update(id, { updated_at: toStoredTime() });
    },

    async removeTag(caller: Caller, id: string, tag: string): Promise<void> {
      const image = await access.owned(id, caller);
      policy.authorize(caller, 'modify_image', image);
      if (!(await images.removeTag(id, tag))) throw Errors.notFoundMessage(`Tag ${tag} not found`);
      await images.update(id, { updated_at: toStoredTime() });
    },
  };
}

export type ImageService = ReturnType<typeof createImageService>;
