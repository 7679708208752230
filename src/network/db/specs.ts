import { sql, type SqlBool } from 'kysely';
import { NotFound } from '../service/faults.js';
import type { CollectionSpec, FilterDef, SortDef } from './list-query.js';

/**
 * Filterable and sortable attributes of each collection, mapped to columns
 * of the aliased table `t` (Neutron's `is_filter` / `is_sort_key`).
 */

const S = (column: string, nullable = false): SortDef => ({ column, type: 'string', nullable });
const I = (column: string, nullable = false): SortDef => ({ column, type: 'int', nullable });
const B = (column: string): SortDef => ({ column, type: 'int' });
const f = (column: string, type: FilterDef['type'] = 'string'): FilterDef => ({ column, type });

const standardFilters: Record<string, FilterDef> = {
  id: f('id'),
  project_id: f('project_id'),
  description: f('description'),
  revision_number: f('revision_number', 'int'),
  created_at: f('created_at'),
  updated_at: f('updated_at'),
};
const standardSorts: Record<string, SortDef> = {
  id: S('id'),
  project_id: S('project_id'),
  tenant_id: S('project_id'),
  created_at: S('created_at'),
  updated_at: S('updated_at'),
  revision_number: I('revision_number'),
};

const rbacShared = (objectType: string, projectIdOf: () => string) => ({
  custom: (values: string[]) => {
    const wanted = values.map((v) => v.toLowerCase() === 'true' || v === '1');
    const exists = sql<SqlBool>`exists (select 1 from net_rbac r where r.object_type = ${objectType} and r.object_id = t.id and r.action = 'access_as_shared' and r.target_tenant in ('*', ${projectIdOf()}))`;
    if (wanted.every((w) => w)) return exists;
    if (wanted.every((w) => !w)) return sql<SqlBool>`not ${exists}`;
    return sql<SqlBool>`1 = 1`;
  },
});

export function networkSpec(viewerProject: string): CollectionSpec {
  return {
    table: 'net_network',
    tagged: true,
    markerNotFound: NotFound.network,
    filters: {
      ...standardFilters,
      name: f('name'),
      admin_state_up: f('admin_state_up', 'bool'),
      status: f('status'),
      mtu: f('mtu', 'int'),
      'router:external': f('router_external', 'bool'),
      port_security_enabled: f('port_security_enabled', 'bool'),
      'provider:network_type': f('network_type'),
      'provider:physical_network': f('physical_network'),
      'provider:segmentation_id': f('segmentation_id', 'int'),
      shared: rbacShared('network', () => viewerProject),
      is_default: { custom: () => sql<SqlBool>`1 = 1` },
    },
    sorts: { ...standardSorts, name: S('name'), admin_state_up: B('admin_state_up'), status: S('status'), mtu: I('mtu'), availability_zone_hints: S('availability_zone_hints') },
  };
}

export const subnetSpec: CollectionSpec = {
  table: 'net_subnet',
  tagged: true,
  markerNotFound: NotFound.subnet,
  filters: {
    ...standardFilters,
    name: f('name'),
    network_id: f('network_id'),
    ip_version: f('ip_version', 'int'),
    cidr: f('cidr'),
    gateway_ip: f('gateway_ip'),
    enable_dhcp: f('enable_dhcp', 'bool'),
    ipv6_ra_mode: f('ipv6_ra_mode'),
    ipv6_address_mode: f('ipv6_address_mode'),
    subnetpool_id: f('subnetpool_id'),
    segment_id: { custom: (v) => (v.some((x) => x.toLowerCase() === 'none' || x === '') ? sql<SqlBool>`1 = 1` : sql<SqlBool>`1 = 0`) },
  },
  sorts: {
    ...standardSorts,
    name: S('name'),
    network_id: S('network_id'),
    ip_version: I('ip_version'),
    cidr: S('cidr'),
    gateway_ip: S('gateway_ip', true),
    enable_dhcp: B('enable_dhcp'),
    ipv6_ra_mode: S('ipv6_ra_mode', true),
    ipv6_address_mode: S('ipv6_address_mode', true),
    subnetpool_id: S('subnetpool_id', true),
  },
};

/** `fixed_ips=ip_address=X`, `fixed_ips=subnet_id=Y`, `fixed_ips=ip_address_substr=Z`. */
const fixedIpsFilter: FilterDef = {
  custom: (values) => {
    const by: Record<string, string[]> = {};
    for (const v of values) {
      const eq = v.indexOf('=');
      if (eq < 0) continue;
      (by[v.slice(0, eq)] ??= []).push(v.slice(eq + 1));
    }
    const conds = [];
    if (by['ip_address']) conds.push(sql`a.ip_address in (${sql.join(by['ip_address'])})`);
    if (by['subnet_id']) conds.push(sql`a.subnet_id in (${sql.join(by['subnet_id'])})`);
    if (by['ip_address_substr']) conds.push(sql`(${sql.join(by['ip_address_substr'].map((s) => sql`a.ip_address like ${`%${s}%`}`), sql` or `)})`);
    if (conds.length === 0) return sql<SqlBool>`1 = 1`;
    return sql<SqlBool>`exists (select 1 from net_ip_allocation a where a.port_id = t.id and ${sql.join(conds, sql` and `)})`;
  },
};

export const portSpec: CollectionSpec = {
  table: 'net_port',
  tagged: true,
  markerNotFound: NotFound.port,
  filters: {
    ...standardFilters,
    name: f('name'),
    network_id: f('network_id'),
    admin_state_up: f('admin_state_up', 'bool'),
    status: f('status'),
    mac_address: f('mac_address'),
    device_id: f('device_id'),
    device_owner: f('device_owner'),
    port_security_enabled: f('port_security_enabled', 'bool'),
    'binding:host_id': f('binding_host_id'),
    'binding:vif_type': f('binding_vif_type'),
    'binding:vnic_type': f('binding_vnic_type'),
    fixed_ips: fixedIpsFilter,
    security_groups: {
      custom: (values) =>
        sql<SqlBool>`exists (select 1 from net_port_security_group psg where psg.port_id = t.id and psg.security_group_id in (${sql.join(values)}))`,
    },
    ip_allocation: { custom: (v) => (v.includes('immediate') ? sql<SqlBool>`1 = 1` : sql<SqlBool>`1 = 0`) },
  },
  sorts: {
    ...standardSorts,
    name: S('name'),
    network_id: S('network_id'),
    admin_state_up: B('admin_state_up'),
    status: S('status'),
    mac_address: S('mac_address'),
    device_id: S('device_id'),
    device_owner: S('device_owner'),
  },
};

export const routerSpec: CollectionSpec = {
  table: 'net_router',
  tagged: true,
  markerNotFound: NotFound.router,
  filters: {
    ...standardFilters,
    name: f('name'),
    admin_state_up: f('admin_state_up', 'bool'),
    status: f('status'),
    distributed: f('distributed', 'bool'),
    ha: f('ha', 'bool'),
    'external_gateway_info:network_id': f('gw_network_id'),
    'external_gateway_info:enable_snat': f('enable_snat', 'bool'),
  },
  sorts: { ...standardSorts, name: S('name'), admin_state_up: B('admin_state_up'), status: S('status') },
};

export const floatingipSpec: CollectionSpec = {
  table: 'net_floatingip',
  tagged: true,
  markerNotFound: NotFound.floatingip,
  filters: {
    ...standardFilters,
    floating_network_id: f('floating_network_id'),
    floating_ip_address: f('floating_ip_address'),
    port_id: f('fixed_port_id'),
    fixed_ip_address: f('fixed_ip_address'),
    router_id: f('router_id'),
    status: f('status'),
  },
  sorts: {
    ...standardSorts,
    floating_network_id: S('floating_network_id'),
    floating_ip_address: S('floating_ip_address'),
    port_id: S('fixed_port_id', true),
    fixed_ip_address: S('fixed_ip_address', true),
    router_id: S('router_id', true),
    status: S('status'),
  },
};

export function securityGroupSpec(viewerProject: string): CollectionSpec {
  return {
    table: 'net_security_group',
    tagged: true,
    markerNotFound: NotFound.securityGroup,
    filters: { ...standardFilters, name: f('name'), stateful: f('stateful', 'bool'), shared: rbacShared('security_group', () => viewerProject) },
    sorts: { ...standardSorts, name: S('name'), stateful: B('stateful') },
  };
}

export const securityGroupRuleSpec: CollectionSpec = {
  table: 'net_security_group_rule',
  tagged: false,
  markerNotFound: NotFound.securityGroupRule,
  filters: {
    ...standardFilters,
    security_group_id: f('security_group_id'),
    direction: f('direction'),
    ethertype: f('ethertype'),
    protocol: f('protocol'),
    port_range_min: f('port_range_min', 'int'),
    port_range_max: f('port_range_max', 'int'),
    remote_ip_prefix: f('remote_ip_prefix'),
    remote_group_id: f('remote_group_id'),
    remote_address_group_id: f('remote_address_group_id'),
    normalized_cidr: f('normalized_cidr'),
  },
  sorts: {
    ...standardSorts,
    security_group_id: S('security_group_id'),
    direction: S('direction'),
    ethertype: S('ethertype'),
    protocol: S('protocol', true),
    port_range_min: I('port_range_min', true),
    port_range_max: I('port_range_max', true),
    remote_ip_prefix: S('remote_ip_prefix', true),
    remote_group_id: S('remote_group_id', true),
  },
};

export function subnetpoolSpec(): CollectionSpec {
  return {
    table: 'net_subnetpool',
    tagged: true,
    markerNotFound: NotFound.subnetpool,
    filters: {
      ...standardFilters,
      name: f('name'),
      ip_version: f('ip_version', 'int'),
      default_prefixlen: f('default_prefixlen', 'int'),
      min_prefixlen: f('min_prefixlen', 'int'),
      max_prefixlen: f('max_prefixlen', 'int'),
      default_quota: f('default_quota', 'int'),
      is_default: f('is_default', 'bool'),
      shared: f('shared', 'bool'),
      address_scope_id: f('address_scope_id'),
    },
    sorts: {
      ...standardSorts,
      name: S('name'),
      ip_version: I('ip_version'),
      default_prefixlen: I('default_prefixlen'),
      min_prefixlen: I('min_prefixlen'),
      max_prefixlen: I('max_prefixlen'),
      is_default: B('is_default'),
      shared: B('shared'),
    },
  };
}

export const rbacSpec: CollectionSpec = {
  table: 'net_rbac',
  tagged: false,
  markerNotFound: NotFound.rbacPolicy,
  filters: { id: f('id'), project_id: f('project_id'), object_type: f('object_type'), object_id: f('object_id'), action: f('action'), target_tenant: f('target_tenant') },
  sorts: { id: S('id'), project_id: S('project_id'), tenant_id: S('project_id'), object_type: S('object_type'), object_id: S('object_id'), action: S('action'), target_tenant: S('target_tenant') },
};

export const agentSpec: CollectionSpec = {
  table: 'net_agent',
  tagged: false,
  markerNotFound: NotFound.agent,
  filters: {
    id: f('id'),
    agent_type: f('agent_type'),
    binary: f('binary'),
    topic: f('topic'),
    host: f('host'),
    admin_state_up: f('admin_state_up', 'bool'),
    description: f('description'),
    availability_zone: f('availability_zone'),
    alive: { custom: () => sql<SqlBool>`1 = 1` },
  },
  sorts: { id: S('id'), agent_type: S('agent_type'), binary: S('binary'), topic: S('topic'), host: S('host'), admin_state_up: B('admin_state_up') },
};
