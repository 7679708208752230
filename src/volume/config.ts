import { Type, type Static } from '@sinclair/typebox';
import { Port, section } from '../core/config/types.js';

/** One storage backend the volume manager drives (Cinder's `enabled_backends` + its driver section). */
export const volumeBackendSchema = Type.Object(
  {
    name: Type.String({ minLength: 1, pattern: '^[A-Za-z0-9_.-]+$', description: 'backend name (host@<name>#<pool>)' }),
    driver: Type.Union([Type.Literal('file'), Type.Literal('lvm'), Type.Literal('fake')], { description: 'file: image files under path; lvm: logical volumes in volumeGroup; fake: records only' }),
    path: Type.String({ default: '', description: 'file: directory of the volume files (default <dataDir>/volumes/<name>)' }),
    format: Type.Union([Type.Literal('qcow2'), Type.Literal('raw')], { default: 'qcow2', description: 'file: on-disk format of volume files' }),
    volumeGroup: Type.String({ default: 'cinder-volumes', description: 'lvm: the volume group to carve logical volumes from' }),
    lvmType: Type.Union([Type.Literal('default'), Type.Literal('thin')], { default: 'default', description: 'lvm: thick or thin logical volumes' }),
    volumeBackendName: Type.String({ default: '', description: 'reported volume_backend_name capability (default: name)' }),
    capacityGb: Type.Integer({ minimum: 0, default: 0, description: 'cap on the capacity reported to the scheduler (0 = what the storage has)' }),
    reservedPercentage: Type.Integer({ minimum: 0, maximum: 100, default: 0 }),
    maxOverSubscriptionRatio: Type.Number({ minimum: 1, default: 20, description: 'thin provisioning: provisioned may exceed total by this ratio' }),
  },
  { additionalProperties: false },
);
export type VolumeBackendConfig = Static<typeof volumeBackendSchema>;

export const volumeSection = section({
  enabled: Type.Boolean({ default: true }),
  port: Port(8776, 'Cinder v3 API port'),
  host: Type.String({ default: '', description: 'host name of this volume service (default: the machine host name)' }),
  availabilityZone: Type.String({ default: 'nova', description: 'storage availability zone (Cinder storage_availability_zone)' }),
  defaultVolumeType: Type.String({ default: '__DEFAULT__', description: 'volume type for volumes created without one' }),
  backends: Type.Array(volumeBackendSchema, {
    default: [{ name: 'file', driver: 'file' }],
    description: 'storage backends (JSON list in NIMBUS_VOLUME__BACKENDS)',
  }),
  backupPath: Type.String({ default: '', description: 'backup store directory (default <dataDir>/volume-backups)' }),
  backupChunkMiB: Type.Integer({ minimum: 1, maximum: 1024, default: 4, description: 'backup chunk size; unchanged chunks are shared by incremental backups' }),
  imageCachePath: Type.String({ default: '', description: 'cache of downloaded images (default <dataDir>/volume-image-cache; empty dir disables nothing)' }),
  imageCacheMaxGb: Type.Integer({ minimum: 0, default: 20, description: 'size of the image cache (0 disables it)' }),
  quotas: section({
    volumes: Type.Integer({ minimum: -1, default: 10 }),
    snapshots: Type.Integer({ minimum: -1, default: 10 }),
    gigabytes: Type.Integer({ minimum: -1, default: 1000 }),
    backups: Type.Integer({ minimum: -1, default: 10 }),
    backupGigabytes: Type.Integer({ minimum: -1, default: 1000 }),
    perVolumeGigabytes: Type.Integer({ minimum: -1, default: -1 }),
    groups: Type.Integer({ minimum: -1, default: 10 }),
  }),
  reportIntervalSeconds: Type.Integer({ minimum: 1, default: 10, description: 'how often a volume backend reports capacity and heartbeats' }),
  serviceDownSeconds: Type.Integer({ minimum: 1, default: 60, description: 'a service silent this long is reported down' }),
  enableForceUpload: Type.Boolean({ default: false, description: 'allow uploading in-use volumes to images with force' }),
  messageTtlSeconds: Type.Integer({ minimum: 60, default: 2592000, description: 'how long user messages are kept' }),
  maxRequestBodyBytes: Type.Integer({ minimum: 1024, default: 114688 }),
  policyFile: Type.String({ default: '', description: 'policy.yaml with rule overrides (default: <dataDir>/volume-policy.yaml if it exists)' }),
});
export type VolumeConfig = Static<typeof volumeSection>;
