import { join } from 'node:path';
import type { ImageConfig } from '../config.js';
import { createFileStore } from './file-store.js';
import type { ImageStore } from './store.js';

/** Id of the store that holds staged (glance-direct / web-download) data, as in Glance. */
export const STAGING_STORE_ID = 'os_glance_staging_store';

export interface StoreRegistry {
  /** Glance multi-store behaviour (stores field, /v2/info/stores, copy-image). */
  multistore: boolean;
  stores: ImageStore[];
  defaultStore: ImageStore;
  staging: ImageStore;
  get(id: string): ImageStore | undefined;
}

/**
 * The configured stores. Without `image.stores` there is one file store
 * under <dataDir>/images (no multi-store); with entries, each is a store
 * of its own and Glance's multi-store API is on.
 */
export function createStoreRegistry(config: ImageConfig, dataDir: string): StoreRegistry {
  const base = join(dataDir, 'images');
  const configured = config.stores;
  const stores: ImageStore[] = configured.length
    ? configured.map((s) => createFileStore({ id: s.id, path: s.path || join(base, s.id), description: s.description, readOnly: s.readOnly }))
    : [createFileStore({ id: 'file', path: base, description: 'file store' })];
  const ids = new Set<string>();
  for (const s of stores) {
    if (ids.has(s.id)) throw new Error(`image.stores: duplicate store id ${s.id}`);
    if (s.id.startsWith('os_glance_')) throw new Error(`image.stores: store ids starting with os_glance_ are reserved (${s.id})`);
    ids.add(s.id);
  }
  const defaultStore = config.defaultStore ? stores.find((s) => s.id === config.defaultStore) : stores.find((s) => !s.readOnly);
  if (!defaultStore) throw new Error(`image.defaultStore: no writable store ${config.defaultStore}`);
  if (defaultStore.readOnly) throw new Error(`image.defaultStore: store ${defaultStore.id} is read-only`);
  const staging = createFileStore({ id: STAGING_STORE_ID, path: config.stagingPath || join(base, 'staging'), description: 'staging area' });
  return {
    multistore: configured.length > 0,
    stores,
    defaultStore,
    staging,
    get: (id) => stores.find((s) => s.id === id),
  };
}
