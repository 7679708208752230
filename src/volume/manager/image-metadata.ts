import type { ImageRecord } from '../service/clients/image-client.js';

/** Keys of a Glance image that are not custom properties. */
const CORE_IMAGE_KEYS = new Set([
  'id', 'name', 'status', 'visibility', 'protected', 'os_hidden', 'owner', 'checksum', 'os_hash_algo', 'os_hash_value', 'size',
  'virtual_size', 'disk_format', 'container_format', 'min_disk', 'min_ram', 'created_at', 'updated_at', 'tags', 'self', 'file',
  'schema', 'direct_url', 'locations', 'stores',
]);

/**
 * Cinder's volume_glance_metadata for a volume made from an image: the
 * image's identity and formats plus its custom properties, all as strings.
 */
export function imageMetadataOf(image: ImageRecord): Record<string, string> {
  const out: Record<string, string> = {
    image_id: image.id,
    image_name: image.name ?? '',
    checksum: image.checksum ?? '',
    container_format: image.container_format ?? '',
    disk_format: image.disk_format ?? '',
    min_disk: String(image.min_disk ?? 0),
    min_ram: String(image.min_ram ?? 0),
    size: String(image.size ?? 0),
  };
  for (const [k, v] of Object.entries(image)) {
    if (CORE_IMAGE_KEYS.has(k) || v === null || v === undefined) continue;
    out[k] = typeof v === 'string' ? v : JSON.stringify(v);
  }
  return out;
}

/** The image properties an uploaded volume carries back to Glance (Cinder keeps these from the volume's image). */
export function propertiesForUpload(imageMetadata: Record<string, string> | null): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(imageMetadata ?? {})) {
    if (['image_id', 'image_name', 'checksum', 'container_format', 'disk_format', 'min_disk', 'min_ram', 'size'].includes(k)) continue;
    if (CORE_IMAGE_KEYS.has(k)) continue;
    out[k] = v;
  }
  return out;
}
