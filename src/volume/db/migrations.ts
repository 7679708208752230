import type { CreateTableBuilder, Kysely } from 'kysely';
import type { Migrations } from '../../core/db/migrate.js';

const ID = 'varchar(64)';
const NAME = 'varchar(255)';
const TS = 'varchar(32)';
const STATUS = 'varchar(64)';

type Cols = Record<string, [type: string, notNull?: boolean]>;

/** A table from a column list (every column nullable unless marked), keeping the migration readable. */
function table<T extends string>(db: Kysely<unknown>, name: T, cols: Cols, extra?: (t: CreateTableBuilder<T, string>) => CreateTableBuilder<T, string>) {
  let t = db.schema.createTable(name) as unknown as CreateTableBuilder<T, string>;
  for (const [col, [type, notNull]] of Object.entries(cols)) {
    t = t.addColumn(col, type as 'text', (c) => (notNull ? c.notNull() : c));
  }
  return (extra ? extra(t) : t).execute();
}

export const volumeMigrations: Migrations = {
  '0001_initial': {
    async up(db: Kysely<unknown>) {
      await table(
        db,
        'vol_volumes',
        {
          id: [ID, true], project_id: [ID, true], user_id: [ID, true], name: [NAME], description: ['text'],
          size: ['integer', true], status: [STATUS, true], attach_status: [STATUS, true], previous_status: [STATUS],
          migration_status: [STATUS], availability_zone: [NAME, true], volume_type_id: [ID, true], snapshot_id: [ID],
          source_volid: [ID], backup_id: [ID], group_id: [ID], host: [NAME], bootable: ['integer', true],
          multiattach: ['integer', true], encryption_key_id: [ID], replication_status: [STATUS, true],
          admin_metadata: ['text', true], image_metadata: ['text'], use_quota: ['integer', true],
          created_at: [TS, true], updated_at: [TS], launched_at: [TS],
        },
        (t) => t.addPrimaryKeyConstraint('vol_volumes_pk', ['id']),
      );
      await db.schema.createIndex('vol_volumes_project').on('vol_volumes').columns(['project_id', 'created_at']).execute();
      await db.schema.createIndex('vol_volumes_snapshot').on('vol_volumes').column('snapshot_id').execute();

      await table(db, 'vol_metadata', { resource_type: ['varchar(16)', true], resource_id: [ID, true], key: [NAME, true], value: ['text', true] }, (t) =>
        t.addPrimaryKeyConstraint('vol_metadata_pk', ['resource_type', 'resource_id', 'key']),
      );

      await table(
        db,
        'vol_snapshots',
        {
          id: [ID, true], project_id: [ID, true], user_id: [ID, true], volume_id: [ID, true], name: [NAME], description: ['text'],
          status: [STATUS, true], progress: ['varchar(16)', true], volume_size: ['integer', true], volume_type_id: [ID],
          group_snapshot_id: [ID], use_quota: ['integer', true], created_at: [TS, true], updated_at: [TS],
        },
        (t) => t.addPrimaryKeyConstraint('vol_snapshots_pk', ['id']),
      );
      await db.schema.createIndex('vol_snapshots_volume').on('vol_snapshots').column('volume_id').execute();
      await db.schema.createIndex('vol_snapshots_project').on('vol_snapshots').columns(['project_id', 'created_at']).execute();

      await table(
        db,
        'vol_backups',
        {
          id: [ID, true], project_id: [ID, true], user_id: [ID, true], volume_id: [ID, true], snapshot_id: [ID], name: [NAME],
          description: ['text'], container: [NAME], status: [STATUS, true], size: ['integer', true], object_count: ['integer', true],
          fail_reason: ['text'], is_incremental: ['integer', true], parent_id: [ID], availability_zone: [NAME],
          data_timestamp: [TS, true], service_metadata: ['text'], volume_info: ['text', true], restore_volume_id: [ID],
          created_at: [TS, true], updated_at: [TS],
        },
        (t) => t.addPrimaryKeyConstraint('vol_backups_pk', ['id']),
      );
      await db.schema.createIndex('vol_backups_project').on('vol_backups').columns(['project_id', 'created_at']).execute();
      await db.schema.createIndex('vol_backups_volume').on('vol_backups').column('volume_id').execute();

      await table(
        db,
        'vol_types',
        { id: [ID, true], name: [NAME, true], description: ['text'], is_public: ['integer', true], qos_specs_id: [ID], created_at: [TS, true], updated_at: [TS] },
        (t) => t.addPrimaryKeyConstraint('vol_types_pk', ['id']).addUniqueConstraint('vol_types_name', ['name']),
      );
      await table(db, 'vol_type_extra_specs', { type_id: [ID, true], key: [NAME, true], value: [NAME, true] }, (t) =>
        t.addPrimaryKeyConstraint('vol_type_extra_specs_pk', ['type_id', 'key']),
      );
      await table(db, 'vol_type_access', { type_id: [ID, true], project_id: [ID, true] }, (t) => t.addPrimaryKeyConstraint('vol_type_access_pk', ['type_id', 'project_id']));
      await table(
        db,
        'vol_type_encryption',
        {
          type_id: [ID, true], encryption_id: [ID, true], provider: [NAME, true], cipher: [NAME], key_size: ['integer'],
          control_location: ['varchar(32)', true], created_at: [TS, true], updated_at: [TS],
        },
        (t) => t.addPrimaryKeyConstraint('vol_type_encryption_pk', ['type_id']),
      );
      await table(db, 'vol_qos_specs', { id: [ID, true], name: [NAME, true], consumer: ['varchar(32)', true], specs: ['text', true], created_at: [TS, true] }, (t) =>
        t.addPrimaryKeyConstraint('vol_qos_specs_pk', ['id']).addUniqueConstraint('vol_qos_specs_name', ['name']),
      );

      await table(db, 'vol_quota_limits', { project_id: [ID, true], resource: [NAME, true], hard_limit: ['integer', true] }, (t) =>
        t.addPrimaryKeyConstraint('vol_quota_limits_pk', ['project_id', 'resource']),
      );
      await table(db, 'vol_quota_classes', { class_name: [NAME, true], resource: [NAME, true], hard_limit: ['integer', true] }, (t) =>
        t.addPrimaryKeyConstraint('vol_quota_classes_pk', ['class_name', 'resource']),
      );
      await table(db, 'vol_quota_usages', { project_id: [ID, true], resource: [NAME, true], in_use: ['integer', true] }, (t) =>
        t.addPrimaryKeyConstraint('vol_quota_usages_pk', ['project_id', 'resource']),
      );

      await table(
        db,
        'vol_attachments',
        {
          id: [ID, true], volume_id: [ID, true], instance_uuid: [ID], attached_host: [NAME], mountpoint: [NAME],
          attach_status: [STATUS, true], attach_mode: ['varchar(8)'], connector: ['text'], connection_info: ['text'],
          attach_time: [TS], detach_time: [TS], created_at: [TS, true], updated_at: [TS],
        },
        (t) => t.addPrimaryKeyConstraint('vol_attachments_pk', ['id']),
      );
      await db.schema.createIndex('vol_attachments_volume').on('vol_attachments').column('volume_id').execute();

      await table(
        db,
        'vol_transfers',
        {
          id: [ID, true], volume_id: [ID, true], name: [NAME], salt: [NAME, true], crypt_hash: [NAME, true],
          source_project_id: [ID, true], destination_project_id: [ID], accepted: ['integer', true], no_snapshots: ['integer', true],
          created_at: [TS, true], updated_at: [TS],
        },
        (t) => t.addPrimaryKeyConstraint('vol_transfers_pk', ['id']),
      );
      await table(
        db,
        'vol_messages',
        {
          id: [ID, true], project_id: [ID, true], request_id: [NAME], resource_type: [NAME, true], resource_uuid: [ID],
          event_id: [NAME, true], message_level: ['varchar(16)', true], user_message: ['text', true], created_at: [TS, true], expires_at: [TS, true],
        },
        (t) => t.addPrimaryKeyConstraint('vol_messages_pk', ['id']),
      );
      await table(
        db,
        'vol_services',
        {
          id: [ID, true], host: [NAME, true], binary: [NAME, true], topic: [NAME, true], availability_zone: [NAME, true],
          disabled: ['integer', true], disabled_reason: [NAME], frozen: ['integer', true], capabilities: ['text'],
          report_count: ['integer', true], created_at: [TS, true], updated_at: [TS, true],
        },
        (t) => t.addPrimaryKeyConstraint('vol_services_pk', ['id']).addUniqueConstraint('vol_services_host_binary', ['host', 'binary']),
      );
      await table(db, 'vol_default_types', { project_id: [ID, true], volume_type_id: [ID, true] }, (t) => t.addPrimaryKeyConstraint('vol_default_types_pk', ['project_id']));

      await table(
        db,
        'vol_group_types',
        { id: [ID, true], name: [NAME, true], description: ['text'], is_public: ['integer', true], created_at: [TS, true], updated_at: [TS] },
        (t) => t.addPrimaryKeyConstraint('vol_group_types_pk', ['id']).addUniqueConstraint('vol_group_types_name', ['name']),
      );
      await table(db, 'vol_group_type_specs', { group_type_id: [ID, true], key: [NAME, true], value: [NAME, true] }, (t) =>
        t.addPrimaryKeyConstraint('vol_group_type_specs_pk', ['group_type_id', 'key']),
      );
      await table(
        db,
        'vol_groups',
        {
          id: [ID, true], project_id: [ID, true], user_id: [ID, true], name: [NAME], description: ['text'], status: [STATUS, true],
          availability_zone: [NAME, true], group_type_id: [ID, true], group_snapshot_id: [ID], source_group_id: [ID], host: [NAME],
          created_at: [TS, true], updated_at: [TS],
        },
        (t) => t.addPrimaryKeyConstraint('vol_groups_pk', ['id']),
      );
      await table(db, 'vol_group_volume_types', { group_id: [ID, true], volume_type_id: [ID, true] }, (t) =>
        t.addPrimaryKeyConstraint('vol_group_volume_types_pk', ['group_id', 'volume_type_id']),
      );
      await table(
        db,
        'vol_group_snapshots',
        {
          id: [ID, true], project_id: [ID, true], user_id: [ID, true], group_id: [ID, true], group_type_id: [ID, true], name: [NAME],
          description: ['text'], status: [STATUS, true], created_at: [TS, true], updated_at: [TS],
        },
        (t) => t.addPrimaryKeyConstraint('vol_group_snapshots_pk', ['id']),
      );
    },
  },
};
