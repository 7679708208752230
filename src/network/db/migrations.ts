import type { CreateTableBuilder, Kysely } from 'kysely';
import type { Migrations } from '../../core/db/migrate.js';

const ID = 'varchar(64)';
const NAME = 'varchar(255)';
const TS = 'varchar(32)';
const IP = 'varchar(64)';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Table = CreateTableBuilder<any, any>;

function standard(t: Table): Table {
  return t
    .addColumn('description', NAME, (c) => c.notNull().defaultTo(''))
    .addColumn('revision_number', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', TS, (c) => c.notNull())
    .addColumn('updated_at', TS, (c) => c.notNull());
}

export const networkMigrations: Migrations = {
  '0001_initial': {
    async up(db: Kysely<unknown>) {
      await standard(
        db.schema
          .createTable('net_network')
          .addColumn('id', ID, (c) => c.primaryKey())
          .addColumn('project_id', ID, (c) => c.notNull())
          .addColumn('name', NAME, (c) => c.notNull())
          .addColumn('admin_state_up', 'integer', (c) => c.notNull())
          .addColumn('status', 'varchar(16)', (c) => c.notNull())
          .addColumn('mtu', 'integer', (c) => c.notNull())
          .addColumn('router_external', 'integer', (c) => c.notNull())
          .addColumn('port_security_enabled', 'integer', (c) => c.notNull())
          .addColumn('network_type', 'varchar(32)')
          .addColumn('physical_network', NAME)
          .addColumn('segmentation_id', 'integer')
          .addColumn('segment_key', NAME, (c) => c.unique())
          .addColumn('availability_zone_hints', 'text', (c) => c.notNull()),
      ).execute();
      await db.schema.createIndex('net_network_project').on('net_network').column('project_id').execute();

      await standard(
        db.schema
          .createTable('net_subnetpool')
          .addColumn('id', ID, (c) => c.primaryKey())
          .addColumn('project_id', ID, (c) => c.notNull())
          .addColumn('name', NAME, (c) => c.notNull())
          .addColumn('ip_version', 'integer', (c) => c.notNull())
          .addColumn('prefixes', 'text', (c) => c.notNull())
          .addColumn('default_prefixlen', 'integer', (c) => c.notNull())
          .addColumn('min_prefixlen', 'integer', (c) => c.notNull())
          .addColumn('max_prefixlen', 'integer', (c) => c.notNull())
          .addColumn('default_quota', 'integer')
          .addColumn('is_default', 'integer', (c) => c.notNull())
          .addColumn('shared', 'integer', (c) => c.notNull())
          .addColumn('address_scope_id', ID),
      ).execute();

      await standard(
        db.schema
          .createTable('net_subnet')
          .addColumn('id', ID, (c) => c.primaryKey())
          .addColumn('project_id', ID, (c) => c.notNull())
          .addColumn('network_id', ID, (c) => c.notNull().references('net_network.id'))
          .addColumn('name', NAME, (c) => c.notNull())
          .addColumn('ip_version', 'integer', (c) => c.notNull())
          .addColumn('cidr', 'varchar(64)', (c) => c.notNull())
          .addColumn('gateway_ip', IP)
          .addColumn('enable_dhcp', 'integer', (c) => c.notNull())
          .addColumn('ipv6_ra_mode', 'varchar(32)')
          .addColumn('ipv6_address_mode', 'varchar(32)')
          .addColumn('subnetpool_id', ID, (c) => c.references('net_subnetpool.id'))
          .addColumn('allocation_pools', 'text', (c) => c.notNull())
          .addColumn('dns_nameservers', 'text', (c) => c.notNull())
          .addColumn('host_routes', 'text', (c) => c.notNull())
          .addColumn('service_types', 'text', (c) => c.notNull())
          .addColumn('seq', 'bigint', (c) => c.notNull()),
      ).execute();
      await db.schema.createIndex('net_subnet_network').on('net_subnet').column('network_id').execute();
      await db.schema.createIndex('net_subnet_project').on('net_subnet').column('project_id').execute();

      await standard(
        db.schema
          .createTable('net_port')
          .addColumn('id', ID, (c) => c.primaryKey())
          .addColumn('project_id', ID, (c) => c.notNull())
          .addColumn('network_id', ID, (c) => c.notNull().references('net_network.id'))
          .addColumn('name', NAME, (c) => c.notNull())
          .addColumn('admin_state_up', 'integer', (c) => c.notNull())
          .addColumn('status', 'varchar(16)', (c) => c.notNull())
          .addColumn('mac_address', 'varchar(32)', (c) => c.notNull())
          .addColumn('device_id', NAME, (c) => c.notNull())
          .addColumn('device_owner', NAME, (c) => c.notNull())
          .addColumn('port_security_enabled', 'integer', (c) => c.notNull())
          .addColumn('binding_host_id', NAME, (c) => c.notNull())
          .addColumn('binding_profile', 'text', (c) => c.notNull())
          .addColumn('binding_vif_type', 'varchar(64)', (c) => c.notNull())
          .addColumn('binding_vif_details', 'text', (c) => c.notNull())
          .addColumn('binding_vnic_type', 'varchar(64)', (c) => c.notNull())
          .addColumn('allowed_address_pairs', 'text', (c) => c.notNull())
          .addColumn('extra_dhcp_opts', 'text', (c) => c.notNull())
          .addUniqueConstraint('net_port_network_mac', ['network_id', 'mac_address']),
      ).execute();
      await db.schema.createIndex('net_port_project').on('net_port').column('project_id').execute();
      await db.schema.createIndex('net_port_device').on('net_port').column('device_id').execute();

      await db.schema
        .createTable('net_ip_allocation')
        .addColumn('subnet_id', ID, (c) => c.notNull().references('net_subnet.id').onDelete('cascade'))
        .addColumn('ip_address', IP, (c) => c.notNull())
        .addColumn('port_id', ID, (c) => c.notNull().references('net_port.id').onDelete('cascade'))
        .addColumn('network_id', ID, (c) => c.notNull())
        .addColumn('position', 'integer', (c) => c.notNull())
        .addPrimaryKeyConstraint('net_ip_allocation_pk', ['subnet_id', 'ip_address'])
        .execute();
      await db.schema.createIndex('net_ip_allocation_port').on('net_ip_allocation').column('port_id').execute();
      await db.schema.createIndex('net_ip_allocation_ip').on('net_ip_allocation').column('ip_address').execute();

      await standard(
        db.schema
          .createTable('net_security_group')
          .addColumn('id', ID, (c) => c.primaryKey())
          .addColumn('project_id', ID, (c) => c.notNull())
          .addColumn('name', NAME, (c) => c.notNull())
          .addColumn('stateful', 'integer', (c) => c.notNull()),
      ).execute();
      await db.schema.createIndex('net_security_group_project').on('net_security_group').column('project_id').execute();

      await db.schema
        .createTable('net_default_security_group')
        .addColumn('project_id', ID, (c) => c.primaryKey())
        .addColumn('security_group_id', ID, (c) => c.notNull().references('net_security_group.id').onDelete('cascade'))
        .execute();

      await standard(
        db.schema
          .createTable('net_security_group_rule')
          .addColumn('id', ID, (c) => c.primaryKey())
          .addColumn('project_id', ID, (c) => c.notNull())
          .addColumn('security_group_id', ID, (c) => c.notNull().references('net_security_group.id').onDelete('cascade'))
          .addColumn('direction', 'varchar(16)', (c) => c.notNull())
          .addColumn('ethertype', 'varchar(8)', (c) => c.notNull())
          .addColumn('protocol', 'varchar(40)')
          .addColumn('port_range_min', 'integer')
          .addColumn('port_range_max', 'integer')
          .addColumn('remote_ip_prefix', 'varchar(64)')
          .addColumn('remote_group_id', ID)
          .addColumn('remote_address_group_id', ID)
          .addColumn('normalized_cidr', 'varchar(64)')
          .addColumn('fingerprint', 'varchar(512)', (c) => c.notNull())
          .addUniqueConstraint('net_sg_rule_fingerprint', ['security_group_id', 'fingerprint']),
      ).execute();
      await db.schema.createIndex('net_sg_rule_project').on('net_security_group_rule').column('project_id').execute();

      await db.schema
        .createTable('net_port_security_group')
        .addColumn('port_id', ID, (c) => c.notNull().references('net_port.id').onDelete('cascade'))
        .addColumn('security_group_id', ID, (c) => c.notNull().references('net_security_group.id'))
        .addPrimaryKeyConstraint('net_port_security_group_pk', ['port_id', 'security_group_id'])
        .execute();
      await db.schema.createIndex('net_port_sg_group').on('net_port_security_group').column('security_group_id').execute();

      await standard(
        db.schema
          .createTable('net_router')
          .addColumn('id', ID, (c) => c.primaryKey())
          .addColumn('project_id', ID, (c) => c.notNull())
          .addColumn('name', NAME, (c) => c.notNull())
          .addColumn('admin_state_up', 'integer', (c) => c.notNull())
          .addColumn('status', 'varchar(16)', (c) => c.notNull())
          .addColumn('gw_port_id', ID)
          .addColumn('gw_network_id', ID)
          .addColumn('enable_snat', 'integer', (c) => c.notNull())
          .addColumn('routes', 'text', (c) => c.notNull())
          .addColumn('distributed', 'integer', (c) => c.notNull())
          .addColumn('ha', 'integer', (c) => c.notNull())
          .addColumn('availability_zone_hints', 'text', (c) => c.notNull()),
      ).execute();
      await db.schema.createIndex('net_router_project').on('net_router').column('project_id').execute();

      await standard(
        db.schema
          .createTable('net_floatingip')
          .addColumn('id', ID, (c) => c.primaryKey())
          .addColumn('project_id', ID, (c) => c.notNull())
          .addColumn('floating_network_id', ID, (c) => c.notNull())
          .addColumn('floating_ip_address', IP, (c) => c.notNull())
          .addColumn('floating_port_id', ID, (c) => c.notNull())
          .addColumn('fixed_port_id', ID)
          .addColumn('fixed_ip_address', IP)
          .addColumn('router_id', ID)
          .addColumn('status', 'varchar(16)', (c) => c.notNull())
          .addUniqueConstraint('net_floatingip_fixed', ['floating_network_id', 'fixed_port_id', 'fixed_ip_address']),
      ).execute();
      await db.schema.createIndex('net_floatingip_project').on('net_floatingip').column('project_id').execute();
      await db.schema.createIndex('net_floatingip_port').on('net_floatingip').column('fixed_port_id').execute();

      await db.schema
        .createTable('net_port_forwarding')
        .addColumn('id', ID, (c) => c.primaryKey())
        .addColumn('floatingip_id', ID, (c) => c.notNull().references('net_floatingip.id').onDelete('cascade'))
        .addColumn('protocol', 'varchar(16)', (c) => c.notNull())
        .addColumn('external_port', 'integer', (c) => c.notNull())
        .addColumn('internal_port', 'integer', (c) => c.notNull())
        .addColumn('internal_ip_address', IP, (c) => c.notNull())
        .addColumn('internal_port_id', ID, (c) => c.notNull())
        .addColumn('description', NAME, (c) => c.notNull())
        .addUniqueConstraint('net_pf_external', ['floatingip_id', 'external_port', 'protocol'])
        .addUniqueConstraint('net_pf_internal', ['internal_port_id', 'internal_ip_address', 'internal_port', 'protocol'])
        .execute();

      await db.schema
        .createTable('net_rbac')
        .addColumn('id', ID, (c) => c.primaryKey())
        .addColumn('project_id', ID, (c) => c.notNull())
        .addColumn('object_type', 'varchar(32)', (c) => c.notNull())
        .addColumn('object_id', ID, (c) => c.notNull())
        .addColumn('action', 'varchar(32)', (c) => c.notNull())
        .addColumn('target_tenant', ID, (c) => c.notNull())
        .addUniqueConstraint('net_rbac_unique', ['object_type', 'object_id', 'action', 'target_tenant'])
        .execute();
      await db.schema.createIndex('net_rbac_object').on('net_rbac').column('object_id').execute();

      await db.schema
        .createTable('net_tag')
        .addColumn('resource_id', ID, (c) => c.notNull())
        .addColumn('tag', NAME, (c) => c.notNull())
        .addPrimaryKeyConstraint('net_tag_pk', ['resource_id', 'tag'])
        .execute();
      await db.schema.createIndex('net_tag_tag').on('net_tag').column('tag').execute();

      await db.schema
        .createTable('net_quota')
        .addColumn('project_id', ID, (c) => c.notNull())
        .addColumn('resource', 'varchar(64)', (c) => c.notNull())
        .addColumn('hard_limit', 'integer', (c) => c.notNull())
        .addPrimaryKeyConstraint('net_quota_pk', ['project_id', 'resource'])
        .execute();

      await db.schema
        .createTable('net_quota_lock')
        .addColumn('project_id', ID, (c) => c.notNull())
        .addColumn('resource', 'varchar(64)', (c) => c.notNull())
        .addPrimaryKeyConstraint('net_quota_lock_pk', ['project_id', 'resource'])
        .execute();

      await db.schema
        .createTable('net_agent')
        .addColumn('id', ID, (c) => c.primaryKey())
        .addColumn('agent_type', NAME, (c) => c.notNull())
        .addColumn('binary', NAME, (c) => c.notNull())
        .addColumn('topic', NAME, (c) => c.notNull())
        .addColumn('host', NAME, (c) => c.notNull())
        .addColumn('admin_state_up', 'integer', (c) => c.notNull())
        .addColumn('availability_zone', NAME)
        .addColumn('configurations', 'text', (c) => c.notNull())
        .addColumn('description', NAME)
        .addColumn('created_at', TS, (c) => c.notNull())
        .addColumn('started_at', TS, (c) => c.notNull())
        .addColumn('heartbeat_at', TS, (c) => c.notNull())
        .addUniqueConstraint('net_agent_type_host', ['agent_type', 'host'])
        .execute();
    },
  },
};
