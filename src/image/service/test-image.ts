import { closeSync, createReadStream, existsSync, openSync, readFileSync, readSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { newUuid } from '../../core/ids.js';
import type { ImageRow } from '../db/tables.js';
import { HASH_ALGO, pumpData } from './data-pipeline.js';
import { writeToStore } from './data-service.js';
import type { ImageCore } from './image-core.js';
import { toStoredTime } from './time.js';

export const TEST_IMAGE_NAME = 'cirros';

/**
 * Where the bootable test image is: `image.testImagePath`, else
 * <dataDir>/images/test-image.qcow2, else what `nimbus image build-test`
 * recorded in <dataDir>/test-image/manifest.json.
 */
export function testImagePath(core: Pick<ImageCore, 'config' | 'dataDir'>): string | undefined {
  if (core.config.testImagePath) return core.config.testImagePath;
  const dropped = join(core.dataDir, 'images', 'test-image.qcow2');
  if (existsSync(dropped)) return dropped;
  const manifest = join(core.dataDir, 'test-image', 'manifest.json');
  if (!existsSync(manifest)) return undefined;
  try {
    const file = (JSON.parse(readFileSync(manifest, 'utf8')) as { file?: unknown }).file;
    return typeof file === 'string' && !file.includes('/') ? join(core.dataDir, 'test-image', file) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The first start after a test image exists imports it as the public
 * `cirros` image of the admin project. A marker file remembers that it was
 * done, so an operator who deletes the image does not get it back.
 * Returns the new image id, or undefined when there was nothing to do.
 */
export async function importTestImage(core: ImageCore, ownerProjectId: () => Promise<string>): Promise<string | undefined> {
  const path = testImagePath(core);
  const marker = join(core.dataDir, 'images', '.test-image-imported');
  if (!path || !existsSync(path) || existsSync(marker)) return undefined;
  const owner = await ownerProjectId();
  const store = core.stores.defaultStore;
  const now = toStoredTime();
  const head = Buffer.alloc(4);
  const fd = openSync(path, 'r');
  try {
    readSync(fd, head, 0, 4, 0);
  } finally {
    closeSync(fd);
  }
  const diskFormat = head.toString('latin1') === 'QFI\xfb' ? 'qcow2' : 'raw';
  const row: ImageRow = {
    id: newUuid(),
    name: TEST_IMAGE_NAME,
    status: 'saving',
    visibility: 'public',
    protected: 0,
    os_hidden: 0,
    checksum: null,
    os_hash_algo: null,
    os_hash_value: null,
    size: null,
    virtual_size: null,
    owner,
    disk_format: diskFormat,
    container_format: 'bare',
    min_disk: 0,
    min_ram: 0,
    created_at: now,
    updated_at: now,
    deleted: 0,
    deleted_at: null,
  };
  await core.repos.images.insert(row, { nimbus_test_image: 'true' }, []);
  try {
    const source = createReadStream(path);
    const result = await writeToStore(store, row.id, source, (sink) =>
      pumpData(source, sink, {
        maxBytes: core.config.imageSizeCapBytes,
        hashes: true,
        hashers: core.hashers,
        format: { diskFormat, containerFormat: 'bare', reject: true, strict: true },
      }),
    );
    await core.repos.images.addLocation(row.id, store.id, toStoredTime());
    await core.repos.images.update(row.id, {
      status: 'active',
      size: result.size,
      virtual_size: result.inspection?.virtualSize ?? null,
      checksum: result.checksum,
      os_hash_algo: HASH_ALGO,
      os_hash_value: result.hashValue,
      updated_at: toStoredTime(),
    });
  } catch (err) {
    await core.repos.images.markDeleted(row.id, toStoredTime());
    throw err;
  }
  writeFileSync(marker, `${row.id}\n`);
  core.log.info({ id: row.id, path }, 'imported the test image as cirros');
  return row.id;
}
