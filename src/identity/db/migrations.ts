import { sql, type Kysely } from 'kysely';
import type { Migrations } from '../../core/db/migrate.js';

const ID = 'varchar(64)';
const NAME = 'varchar(255)';
const TS = 'varchar(32)';

export const identityMigrations: Migrations = {
  '0001_initial': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('ks_project')
        .addColumn('id', ID, (c) => c.primaryKey())
        .addColumn('name', 'varchar(64)', (c) => c.notNull())
        .addColumn('domain_id', ID, (c) => c.notNull())
        .addColumn('parent_id', ID)
        .addColumn('description', 'text', (c) => c.notNull())
        .addColumn('enabled', 'integer', (c) => c.notNull())
        .addColumn('is_domain', 'integer', (c) => c.notNull())
        .addColumn('extra', 'text', (c) => c.notNull())
        .addColumn('options', 'text', (c) => c.notNull())
        .addColumn('created_at', TS, (c) => c.notNull())
        .addUniqueConstraint('ks_project_domain_name', ['domain_id', 'name'])
        .execute();
      await db.schema.createIndex('ks_project_parent').on('ks_project').column('parent_id').execute();

      await db.schema
        .createTable('ks_project_tag')
        .addColumn('project_id', ID, (c) => c.notNull().references('ks_project.id').onDelete('cascade'))
        .addColumn('name', NAME, (c) => c.notNull())
        .addPrimaryKeyConstraint('ks_project_tag_pk', ['project_id', 'name'])
        .execute();

      await db.schema
        .createTable('ks_user')
        .addColumn('id', ID, (c) => c.primaryKey())
        .addColumn('domain_id', ID, (c) => c.notNull())
        .addColumn('name', NAME, (c) => c.notNull())
        .addColumn('enabled', 'integer', (c) => c.notNull())
        .addColumn('default_project_id', ID)
        .addColumn('description', 'text')
        .addColumn('extra', 'text', (c) => c.notNull())
        .addColumn('options', 'text', (c) => c.notNull())
        .addColumn('created_at', TS, (c) => c.notNull())
        .addColumn('last_active_at', TS)
        .addColumn('password_hash', 'text')
        .addColumn('password_created_at', TS)
        .addColumn('password_expires_at', TS)
        .addColumn('failed_auth_count', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('failed_auth_at', TS)
        .addUniqueConstraint('ks_user_domain_name', ['domain_id', 'name'])
        .execute();

      await db.schema
        .createTable('ks_password_history')
        .addColumn('id', ID, (c) => c.primaryKey())
        .addColumn('user_id', ID, (c) => c.notNull().references('ks_user.id').onDelete('cascade'))
        .addColumn('password_hash', 'text', (c) => c.notNull())
        .addColumn('created_at', TS, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('ks_password_history_user').on('ks_password_history').column('user_id').execute();

      await db.schema
        .createTable('ks_group')
        .addColumn('id', ID, (c) => c.primaryKey())
        .addColumn('domain_id', ID, (c) => c.notNull())
        .addColumn('name', 'varchar(64)', (c) => c.notNull())
        .addColumn('description', 'text', (c) => c.notNull())
        .addColumn('extra', 'text', (c) => c.notNull())
        .addUniqueConstraint('ks_group_domain_name', ['domain_id', 'name'])
        .execute();

      await db.schema
        .createTable('ks_user_group')
        .addColumn('user_id', ID, (c) => c.notNull().references('ks_user.id').onDelete('cascade'))
        .addColumn('group_id', ID, (c) => c.notNull().references('ks_group.id').onDelete('cascade'))
        .addPrimaryKeyConstraint('ks_user_group_pk', ['user_id', 'group_id'])
        .execute();
      await db.schema.createIndex('ks_user_group_group').on('ks_user_group').column('group_id').execute();

      await db.schema
        .createTable('ks_role')
        .addColumn('id', ID, (c) => c.primaryKey())
        .addColumn('name', NAME, (c) => c.notNull())
        .addColumn('domain_id', ID, (c) => c.notNull())
        .addColumn('description', 'text')
        .addColumn('options', 'text', (c) => c.notNull())
        .addColumn('extra', 'text', (c) => c.notNull())
        .addUniqueConstraint('ks_role_domain_name', ['domain_id', 'name'])
        .execute();

      await db.schema
        .createTable('ks_implied_role')
        .addColumn('prior_role_id', ID, (c) => c.notNull().references('ks_role.id').onDelete('cascade'))
        .addColumn('implied_role_id', ID, (c) => c.notNull().references('ks_role.id').onDelete('cascade'))
        .addPrimaryKeyConstraint('ks_implied_role_pk', ['prior_role_id', 'implied_role_id'])
        .execute();

      await db.schema
        .createTable('ks_assignment')
        .addColumn('type', 'varchar(16)', (c) => c.notNull())
        .addColumn('actor_id', ID, (c) => c.notNull())
        .addColumn('target_id', ID, (c) => c.notNull())
        .addColumn('role_id', ID, (c) => c.notNull())
        .addColumn('inherited', 'integer', (c) => c.notNull())
        .addPrimaryKeyConstraint('ks_assignment_pk', ['type', 'actor_id', 'target_id', 'role_id', 'inherited'])
        .execute();
      await db.schema.createIndex('ks_assignment_actor').on('ks_assignment').column('actor_id').execute();
      await db.schema.createIndex('ks_assignment_target').on('ks_assignment').column('target_id').execute();
      await db.schema.createIndex('ks_assignment_role').on('ks_assignment').column('role_id').execute();

      await db.schema
        .createTable('ks_region')
        .addColumn('id', NAME, (c) => c.primaryKey())
        .addColumn('description', 'text', (c) => c.notNull())
        .addColumn('parent_region_id', NAME)
        .addColumn('extra', 'text', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('ks_service')
        .addColumn('id', ID, (c) => c.primaryKey())
        .addColumn('type', NAME, (c) => c.notNull())
        .addColumn('name', NAME, (c) => c.notNull())
        .addColumn('description', 'text', (c) => c.notNull())
        .addColumn('enabled', 'integer', (c) => c.notNull())
        .addColumn('extra', 'text', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('ks_endpoint')
        .addColumn('id', ID, (c) => c.primaryKey())
        .addColumn('service_id', ID, (c) => c.notNull().references('ks_service.id').onDelete('cascade'))
        .addColumn('interface', 'varchar(16)', (c) => c.notNull())
        .addColumn('url', 'text', (c) => c.notNull())
        .addColumn('region_id', NAME)
        .addColumn('enabled', 'integer', (c) => c.notNull())
        .addColumn('extra', 'text', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('ks_revocation_event')
        .addColumn('id', ID, (c) => c.primaryKey())
        .addColumn('domain_id', ID)
        .addColumn('project_id', ID)
        .addColumn('user_id', ID)
        .addColumn('role_id', ID)
        .addColumn('trust_id', ID)
        .addColumn('consumer_id', ID)
        .addColumn('access_token_id', ID)
        .addColumn('issued_before', TS, (c) => c.notNull())
        .addColumn('expires_at', TS)
        .addColumn('revoked_at', TS, (c) => c.notNull())
        .addColumn('audit_id', ID)
        .addColumn('audit_chain_id', ID)
        .execute();
      await db.schema.createIndex('ks_revocation_event_revoked').on('ks_revocation_event').column('revoked_at').execute();

      await db.schema
        .createTable('ks_app_credential')
        .addColumn('id', ID, (c) => c.primaryKey())
        .addColumn('name', NAME, (c) => c.notNull())
        .addColumn('description', 'text')
        .addColumn('user_id', ID, (c) => c.notNull())
        .addColumn('project_id', ID)
        .addColumn('system', 'varchar(16)')
        .addColumn('secret_hash', 'text', (c) => c.notNull())
        .addColumn('expires_at', TS)
        .addColumn('unrestricted', 'integer', (c) => c.notNull())
        .addColumn('roles', 'text', (c) => c.notNull())
        .addColumn('created_at', TS, (c) => c.notNull())
        .addUniqueConstraint('ks_app_credential_user_name', ['user_id', 'name'])
        .execute();

      await db.schema
        .createTable('ks_access_rule')
        .addColumn('id', ID, (c) => c.primaryKey())
        .addColumn('external_id', ID, (c) => c.notNull().unique())
        .addColumn('user_id', ID, (c) => c.notNull())
        .addColumn('service', NAME, (c) => c.notNull())
        .addColumn('path', 'text', (c) => c.notNull())
        .addColumn('method', 'varchar(16)', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('ks_app_credential_access_rule')
        .addColumn('app_credential_id', ID, (c) => c.notNull().references('ks_app_credential.id').onDelete('cascade'))
        .addColumn('access_rule_id', ID, (c) => c.notNull().references('ks_access_rule.id').onDelete('cascade'))
        .addPrimaryKeyConstraint('ks_app_credential_access_rule_pk', ['app_credential_id', 'access_rule_id'])
        .execute();

      await db.schema
        .createTable('ks_credential')
        .addColumn('id', ID, (c) => c.primaryKey())
        .addColumn('user_id', ID, (c) => c.notNull())
        .addColumn('project_id', ID)
        .addColumn('type', NAME, (c) => c.notNull())
        .addColumn('blob', 'text', (c) => c.notNull())
        .addColumn('key_hash', ID)
        .addColumn('extra', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('ks_credential_user').on('ks_credential').column('user_id').execute();

      await db.schema
        .createTable('ks_trust')
        .addColumn('id', ID, (c) => c.primaryKey())
        .addColumn('trustor_user_id', ID, (c) => c.notNull())
        .addColumn('trustee_user_id', ID, (c) => c.notNull())
        .addColumn('project_id', ID)
        .addColumn('impersonation', 'integer', (c) => c.notNull())
        .addColumn('expires_at', TS)
        .addColumn('remaining_uses', 'integer')
        .addColumn('redelegated_trust_id', ID)
        .addColumn('redelegation_count', 'integer')
        .addColumn('deleted_at', TS)
        .addColumn('extra', 'text', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('ks_trust_role')
        .addColumn('trust_id', ID, (c) => c.notNull().references('ks_trust.id').onDelete('cascade'))
        .addColumn('role_id', ID, (c) => c.notNull())
        .addPrimaryKeyConstraint('ks_trust_role_pk', ['trust_id', 'role_id'])
        .execute();

      await db.schema
        .createTable('ks_registered_limit')
        .addColumn('id', ID, (c) => c.primaryKey())
        .addColumn('service_id', ID, (c) => c.notNull())
        .addColumn('region_id', NAME)
        .addColumn('resource_name', NAME, (c) => c.notNull())
        .addColumn('default_limit', 'integer', (c) => c.notNull())
        .addColumn('description', 'text')
        .execute();

      await db.schema
        .createTable('ks_limit')
        .addColumn('id', ID, (c) => c.primaryKey())
        .addColumn('project_id', ID)
        .addColumn('domain_id', ID)
        .addColumn('service_id', ID, (c) => c.notNull())
        .addColumn('region_id', NAME)
        .addColumn('resource_name', NAME, (c) => c.notNull())
        .addColumn('resource_limit', 'integer', (c) => c.notNull())
        .addColumn('description', 'text')
        .execute();

      await db.schema
        .createTable('ks_policy')
        .addColumn('id', ID, (c) => c.primaryKey())
        .addColumn('type', NAME, (c) => c.notNull())
        .addColumn('blob', 'text', (c) => c.notNull())
        .addColumn('extra', 'text', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('ks_domain_config')
        .addColumn('domain_id', ID, (c) => c.notNull())
        .addColumn('group_name', NAME, (c) => c.notNull())
        .addColumn('option_name', NAME, (c) => c.notNull())
        .addColumn('value', 'text', (c) => c.notNull())
        .addColumn('sensitive', 'integer', (c) => c.notNull())
        .addPrimaryKeyConstraint('ks_domain_config_pk', ['domain_id', 'group_name', 'option_name'])
        .execute();

      await db.schema
        .createTable('ks_endpoint_group')
        .addColumn('id', ID, (c) => c.primaryKey())
        .addColumn('name', NAME, (c) => c.notNull())
        .addColumn('description', 'text')
        .addColumn('filters', 'text', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('ks_project_endpoint_group')
        .addColumn('endpoint_group_id', ID, (c) => c.notNull().references('ks_endpoint_group.id').onDelete('cascade'))
        .addColumn('project_id', ID, (c) => c.notNull())
        .addPrimaryKeyConstraint('ks_project_endpoint_group_pk', ['endpoint_group_id', 'project_id'])
        .execute();

      await db.schema
        .createTable('ks_project_endpoint')
        .addColumn('endpoint_id', ID, (c) => c.notNull())
        .addColumn('project_id', ID, (c) => c.notNull())
        .addPrimaryKeyConstraint('ks_project_endpoint_pk', ['endpoint_id', 'project_id'])
        .execute();

      await db.schema
        .createTable('ks_consumer')
        .addColumn('id', ID, (c) => c.primaryKey())
        .addColumn('description', 'text')
        .addColumn('secret', 'text', (c) => c.notNull())
        .addColumn('extra', 'text', (c) => c.notNull())
        .execute();
    },
  },
  /**
   * Uniqueness the newer identity APIs rely on under concurrent requests.
   * NULL never equals NULL in a unique index, so nullable parts are coalesced
   * to '' in expression indexes (SQLite, PostgreSQL and MySQL 8 accept them).
   */
  '0002_limits_trusts_indexes': {
    async up(db: Kysely<unknown>) {
      await sql`CREATE UNIQUE INDEX ks_registered_limit_unique ON ks_registered_limit (service_id, resource_name, (COALESCE(region_id, '')))`.execute(db);
      await sql`CREATE UNIQUE INDEX ks_limit_unique ON ks_limit ((COALESCE(project_id, '')), (COALESCE(domain_id, '')), service_id, resource_name, (COALESCE(region_id, '')))`.execute(db);
      await db.schema.createIndex('ks_access_rule_user').on('ks_access_rule').columns(['user_id', 'service', 'method']).execute();
      await db.schema.createIndex('ks_trust_trustor').on('ks_trust').column('trustor_user_id').execute();
      await db.schema.createIndex('ks_trust_trustee').on('ks_trust').column('trustee_user_id').execute();
      await db.schema.createIndex('ks_app_credential_user').on('ks_app_credential').column('user_id').execute();
      // Whether the current password was set by the user (minimum password age applies) or by an admin.
      await db.schema.alterTable('ks_user').addColumn('password_self_service', 'integer', (c) => c.notNull().defaultTo(0)).execute();
    },
  },
};
