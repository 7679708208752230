import type { Kysely } from 'kysely';
import type { Migrations } from '../../core/db/migrate.js';

const ID = 'varchar(64)';
const NAME = 'varchar(255)';
const TS = 'varchar(32)';

export const imageMigrations: Migrations = {
  '0001_initial': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('img_image')
        .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
        .addColumn('name', NAME)
        .addColumn('status', 'varchar(30)', (c) => c.notNull())
        .addColumn('visibility', 'varchar(20)', (c) => c.notNull())
        .addColumn('protected', 'integer', (c) => c.notNull())
        .addColumn('os_hidden', 'integer', (c) => c.notNull())
        .addColumn('checksum', 'varchar(32)')
        .addColumn('os_hash_algo', 'varchar(64)')
        .addColumn('os_hash_value', 'varchar(128)')
        .addColumn('size', 'bigint')
        .addColumn('virtual_size', 'bigint')
        .addColumn('owner', NAME)
        .addColumn('disk_format', 'varchar(20)')
        .addColumn('container_format', 'varchar(20)')
        .addColumn('min_disk', 'integer', (c) => c.notNull())
        .addColumn('min_ram', 'integer', (c) => c.notNull())
        .addColumn('created_at', TS, (c) => c.notNull())
        .addColumn('updated_at', TS, (c) => c.notNull())
        .addColumn('deleted', 'integer', (c) => c.notNull())
        .addColumn('deleted_at', TS)
        .execute();
      await db.schema.createIndex('img_image_owner').on('img_image').columns(['owner', 'deleted']).execute();
      await db.schema.createIndex('img_image_visibility').on('img_image').columns(['visibility', 'deleted']).execute();
      await db.schema.createIndex('img_image_status').on('img_image').column('status').execute();
      await db.schema.createIndex('img_image_created').on('img_image').columns(['created_at', 'id']).execute();

      await db.schema
        .createTable('img_property')
        .addColumn('image_id', 'varchar(36)', (c) => c.notNull().references('img_image.id').onDelete('cascade'))
        .addColumn('name', NAME, (c) => c.notNull())
        .addColumn('value', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('img_property_pk', ['image_id', 'name'])
        .execute();
      await db.schema.createIndex('img_property_name').on('img_property').columns(['name']).execute();

      await db.schema
        .createTable('img_tag')
        .addColumn('image_id', 'varchar(36)', (c) => c.notNull().references('img_image.id').onDelete('cascade'))
        .addColumn('value', NAME, (c) => c.notNull())
        .addPrimaryKeyConstraint('img_tag_pk', ['image_id', 'value'])
        .execute();
      await db.schema.createIndex('img_tag_value').on('img_tag').column('value').execute();

      await db.schema
        .createTable('img_member')
        .addColumn('image_id', 'varchar(36)', (c) => c.notNull().references('img_image.id').onDelete('cascade'))
        .addColumn('member', NAME, (c) => c.notNull())
        .addColumn('status', 'varchar(20)', (c) => c.notNull())
        .addColumn('created_at', TS, (c) => c.notNull())
        .addColumn('updated_at', TS, (c) => c.notNull())
        .addPrimaryKeyConstraint('img_member_pk', ['image_id', 'member'])
        .execute();
      await db.schema.createIndex('img_member_member').on('img_member').columns(['member', 'status']).execute();

      await db.schema
        .createTable('img_location')
        .addColumn('image_id', 'varchar(36)', (c) => c.notNull().references('img_image.id').onDelete('cascade'))
        .addColumn('store_id', 'varchar(64)', (c) => c.notNull())
        .addColumn('created_at', TS, (c) => c.notNull())
        .addPrimaryKeyConstraint('img_location_pk', ['image_id', 'store_id'])
        .execute();

      await db.schema
        .createTable('img_task')
        .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
        .addColumn('type', 'varchar(30)', (c) => c.notNull())
        .addColumn('status', 'varchar(20)', (c) => c.notNull())
        .addColumn('owner', NAME)
        .addColumn('user_id', ID)
        .addColumn('image_id', 'varchar(36)')
        .addColumn('request_id', ID)
        .addColumn('input', 'text', (c) => c.notNull())
        .addColumn('result', 'text')
        .addColumn('message', 'text', (c) => c.notNull())
        .addColumn('expires_at', TS)
        .addColumn('created_at', TS, (c) => c.notNull())
        .addColumn('updated_at', TS, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('img_task_image').on('img_task').column('image_id').execute();

      await db.schema
        .createTable('img_md_namespace')
        .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
        .addColumn('namespace', 'varchar(80)', (c) => c.notNull().unique())
        .addColumn('display_name', NAME)
        .addColumn('description', 'text')
        .addColumn('visibility', 'varchar(20)', (c) => c.notNull())
        .addColumn('protected', 'integer', (c) => c.notNull())
        .addColumn('owner', NAME, (c) => c.notNull())
        .addColumn('created_at', TS, (c) => c.notNull())
        .addColumn('updated_at', TS, (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('img_md_resource_type')
        .addColumn('name', 'varchar(80)', (c) => c.primaryKey())
        .addColumn('protected', 'integer', (c) => c.notNull())
        .addColumn('created_at', TS, (c) => c.notNull())
        .addColumn('updated_at', TS, (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('img_md_ns_resource_type')
        .addColumn('namespace_id', 'varchar(36)', (c) => c.notNull().references('img_md_namespace.id').onDelete('cascade'))
        .addColumn('resource_type', 'varchar(80)', (c) => c.notNull().references('img_md_resource_type.name'))
        .addColumn('prefix', NAME)
        .addColumn('properties_target', NAME)
        .addColumn('created_at', TS, (c) => c.notNull())
        .addColumn('updated_at', TS, (c) => c.notNull())
        .addPrimaryKeyConstraint('img_md_ns_rt_pk', ['namespace_id', 'resource_type'])
        .execute();

      await db.schema
        .createTable('img_md_item')
        .addColumn('namespace_id', 'varchar(36)', (c) => c.notNull().references('img_md_namespace.id').onDelete('cascade'))
        .addColumn('kind', 'varchar(10)', (c) => c.notNull())
        .addColumn('name', 'varchar(80)', (c) => c.notNull())
        .addColumn('body', 'text', (c) => c.notNull())
        .addColumn('created_at', TS, (c) => c.notNull())
        .addColumn('updated_at', TS, (c) => c.notNull())
        .addPrimaryKeyConstraint('img_md_item_pk', ['namespace_id', 'kind', 'name'])
        .execute();
    },
  },
};
