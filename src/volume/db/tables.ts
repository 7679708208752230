/**
 * Cinder's tables, portable across SQLite/PostgreSQL/MySQL: booleans are 0/1
 * integers, JSON is text, timestamps are ISO-8601 text. Rows are hard-deleted
 * (Cinder soft-deletes; nothing here reads deleted rows).
 */
export interface VolumeRow {
  id: string;
  project_id: string;
  user_id: string;
  name: string | null;
  description: string | null;
  size: number;
  status: string;
  attach_status: string;
  /** Status to return to after a temporary one (backing-up, uploading, retyping…). */
  previous_status: string | null;
  migration_status: string | null;
  availability_zone: string;
  volume_type_id: string;
  snapshot_id: string | null;
  source_volid: string | null;
  backup_id: string | null;
  group_id: string | null;
  /** `host@backend#pool` once scheduled. */
  host: string | null;
  bootable: number;
  multiattach: number;
  encryption_key_id: string | null;
  replication_status: string;
  /** JSON: readonly, attached_mode … (Cinder's volume_admin_metadata). */
  admin_metadata: string;
  /** JSON: image properties (Cinder's volume_glance_metadata), or null. */
  image_metadata: string | null;
  use_quota: number;
  created_at: string;
  updated_at: string | null;
  launched_at: string | null;
}

export interface MetadataRow {
  /** `volume`, `snapshot` or `backup`. */
  resource_type: string;
  resource_id: string;
  key: string;
  value: string;
}

export interface SnapshotRow {
  id: string;
  project_id: string;
  user_id: string;
  volume_id: string;
  name: string | null;
  description: string | null;
  status: string;
  progress: string;
  volume_size: number;
  volume_type_id: string | null;
  group_snapshot_id: string | null;
  use_quota: number;
  created_at: string;
  updated_at: string | null;
}

export interface BackupRow {
  id: string;
  project_id: string;
  user_id: string;
  volume_id: string;
  snapshot_id: string | null;
  name: string | null;
  description: string | null;
  container: string | null;
  status: string;
  size: number;
  object_count: number;
  fail_reason: string | null;
  is_incremental: number;
  parent_id: string | null;
  availability_zone: string | null;
  data_timestamp: string;
  /** The backup store's manifest name for this backup. */
  service_metadata: string | null;
  /** JSON of what the volume looked like: bootable, image metadata, metadata (restore copies it). */
  volume_info: string;
  restore_volume_id: string | null;
  created_at: string;
  updated_at: string | null;
}

export interface VolumeTypeRow {
  id: string;
  name: string;
  description: string | null;
  is_public: number;
  qos_specs_id: string | null;
  created_at: string;
  updated_at: string | null;
}

export interface TypeExtraSpecRow {
  type_id: string;
  key: string;
  value: string;
}

export interface TypeAccessRow {
  type_id: string;
  project_id: string;
}

export interface EncryptionRow {
  type_id: string;
  encryption_id: string;
  provider: string;
  cipher: string | null;
  key_size: number | null;
  control_location: string;
  created_at: string;
  updated_at: string | null;
}

export interface QosSpecsRow {
  id: string;
  name: string;
  consumer: string;
  specs: string;
  created_at: string;
}

export interface QuotaLimitRow {
  project_id: string;
  resource: string;
  hard_limit: number;
}

export interface QuotaClassRow {
  class_name: string;
  resource: string;
  hard_limit: number;
}

export interface QuotaUsageRow {
  project_id: string;
  resource: string;
  in_use: number;
}

export interface AttachmentRow {
  id: string;
  volume_id: string;
  instance_uuid: string | null;
  attached_host: string | null;
  mountpoint: string | null;
  /** reserved | attaching | attached | detaching | error_attaching | error_detaching */
  attach_status: string;
  attach_mode: string | null;
  connector: string | null;
  connection_info: string | null;
  attach_time: string | null;
  detach_time: string | null;
  created_at: string;
  updated_at: string | null;
}

export interface TransferRow {
  id: string;
  volume_id: string;
  name: string | null;
  salt: string;
  crypt_hash: string;
  source_project_id: string;
  destination_project_id: string | null;
  accepted: number;
  no_snapshots: number;
  created_at: string;
  updated_at: string | null;
}

export interface MessageRow {
  id: string;
  project_id: string;
  request_id: string | null;
  resource_type: string;
  resource_uuid: string | null;
  event_id: string;
  message_level: string;
  user_message: string;
  created_at: string;
  expires_at: string;
}

export interface ServiceRow {
  id: string;
  host: string;
  binary: string;
  topic: string;
  availability_zone: string;
  disabled: number;
  disabled_reason: string | null;
  frozen: number;
  /** JSON capabilities of the pool (cinder-volume only). */
  capabilities: string | null;
  report_count: number;
  created_at: string;
  updated_at: string;
}

export interface DefaultTypeRow {
  project_id: string;
  volume_type_id: string;
}

export interface GroupTypeRow {
  id: string;
  name: string;
  description: string | null;
  is_public: number;
  created_at: string;
  updated_at: string | null;
}

export interface GroupTypeSpecRow {
  group_type_id: string;
  key: string;
  value: string;
}

export interface GroupRow {
  id: string;
  project_id: string;
  user_id: string;
  name: string | null;
  description: string | null;
  status: string;
  availability_zone: string;
  group_type_id: string;
  group_snapshot_id: string | null;
  source_group_id: string | null;
  host: string | null;
  created_at: string;
  updated_at: string | null;
}

export interface GroupVolumeTypeRow {
  group_id: string;
  volume_type_id: string;
}

export interface GroupSnapshotRow {
  id: string;
  project_id: string;
  user_id: string;
  group_id: string;
  group_type_id: string;
  name: string | null;
  description: string | null;
  status: string;
  created_at: string;
  updated_at: string | null;
}

export interface VolumeTables {
  vol_volumes: VolumeRow;
  vol_metadata: MetadataRow;
  vol_snapshots: SnapshotRow;
  vol_backups: BackupRow;
  vol_types: VolumeTypeRow;
  vol_type_extra_specs: TypeExtraSpecRow;
  vol_type_access: TypeAccessRow;
  vol_type_encryption: EncryptionRow;
  vol_qos_specs: QosSpecsRow;
  vol_quota_limits: QuotaLimitRow;
  vol_quota_classes: QuotaClassRow;
  vol_quota_usages: QuotaUsageRow;
  vol_attachments: AttachmentRow;
  vol_transfers: TransferRow;
  vol_messages: MessageRow;
  vol_services: ServiceRow;
  vol_default_types: DefaultTypeRow;
  vol_group_types: GroupTypeRow;
  vol_group_type_specs: GroupTypeSpecRow;
  vol_groups: GroupRow;
  vol_group_volume_types: GroupVolumeTypeRow;
  vol_group_snapshots: GroupSnapshotRow;
}
