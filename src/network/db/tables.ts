import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../../core/db/database.js';

/**
 * Networking tables (prefix `net_`). Booleans are 0/1 integers, lists and
 * dicts are JSON text, timestamps ISO text (`2024-01-31T12:34:56Z`).
 * Uniqueness that must hold under concurrent requests is a constraint, never
 * a check in code: one address per (subnet, ip), one MAC per network, one
 * segment per (type, physnet, id), one default security group per project.
 */

/** Columns every "standard attribute" resource has (description, revision, timestamps). */
export interface StandardColumns {
  description: string;
  revision_number: number;
  created_at: string;
  updated_at: string;
}

export interface NetworkRow extends StandardColumns {
  id: string;
  project_id: string;
  name: string;
  admin_state_up: number;
  status: string;
  mtu: number;
  router_external: number;
  port_security_enabled: number;
  network_type: string | null;
  physical_network: string | null;
  segmentation_id: number | null;
  /** `type:physnet:id` (flat: `flat:physnet:`) — unique, so a segment is never handed out twice. */
  segment_key: string | null;
  availability_zone_hints: string;
}

export interface SubnetRow extends StandardColumns {
  id: string;
  project_id: string;
  network_id: string;
  name: string;
  ip_version: number;
  cidr: string;
  gateway_ip: string | null;
  enable_dhcp: number;
  ipv6_ra_mode: string | null;
  ipv6_address_mode: string | null;
  subnetpool_id: string | null;
  allocation_pools: string;
  dns_nameservers: string;
  host_routes: string;
  service_types: string;
  /** Creation order inside the network (allocation tries subnets in this order). */
  seq: number;
}

export interface PortRow extends StandardColumns {
  id: string;
  project_id: string;
  network_id: string;
  name: string;
  admin_state_up: number;
  status: string;
  mac_address: string;
  device_id: string;
  device_owner: string;
  port_security_enabled: number;
  binding_host_id: string;
  binding_profile: string;
  binding_vif_type: string;
  binding_vif_details: string;
  binding_vnic_type: string;
  allowed_address_pairs: string;
  extra_dhcp_opts: string;
}

export interface IpAllocationRow {
  subnet_id: string;
  ip_address: string;
  port_id: string;
  network_id: string;
  /** Order of the address in the port's fixed_ips. */
  position: number;
}

export interface PortSecurityGroupRow {
  port_id: string;
  security_group_id: string;
}

export interface RouterRow extends StandardColumns {
  id: string;
  project_id: string;
  name: string;
  admin_state_up: number;
  status: string;
  gw_port_id: string | null;
  gw_network_id: string | null;
  enable_snat: number;
  routes: string;
  distributed: number;
  ha: number;
  availability_zone_hints: string;
}

export interface FloatingIpRow extends StandardColumns {
  id: string;
  project_id: string;
  floating_network_id: string;
  floating_ip_address: string;
  floating_port_id: string;
  fixed_port_id: string | null;
  fixed_ip_address: string | null;
  router_id: string | null;
  status: string;
}

export interface PortForwardingRow {
  id: string;
  floatingip_id: string;
  protocol: string;
  external_port: number;
  internal_port: number;
  internal_ip_address: string;
  internal_port_id: string;
  description: string;
}

export interface SecurityGroupRow extends StandardColumns {
  id: string;
  project_id: string;
  name: string;
  stateful: number;
}

export interface DefaultSecurityGroupRow {
  project_id: string;
  security_group_id: string;
}

export interface SecurityGroupRuleRow extends StandardColumns {
  id: string;
  project_id: string;
  security_group_id: string;
  direction: string;
  ethertype: string;
  protocol: string | null;
  port_range_min: number | null;
  port_range_max: number | null;
  remote_ip_prefix: string | null;
  remote_group_id: string | null;
  remote_address_group_id: string | null;
  normalized_cidr: string | null;
  /** Normalised rule content; unique per group, so a duplicate can never be inserted. */
  fingerprint: string;
}

export interface SubnetPoolRow extends StandardColumns {
  id: string;
  project_id: string;
  name: string;
  ip_version: number;
  prefixes: string;
  default_prefixlen: number;
  min_prefixlen: number;
  max_prefixlen: number;
  default_quota: number | null;
  is_default: number;
  shared: number;
  address_scope_id: string | null;
}

export interface RbacRow {
  id: string;
  project_id: string;
  object_type: string;
  object_id: string;
  action: string;
  target_tenant: string;
}

export interface TagRow {
  resource_id: string;
  tag: string;
}

export interface QuotaRow {
  project_id: string;
  resource: string;
  hard_limit: number;
}

/** One row per (project, resource), locked while a creation counts usage. */
export interface QuotaLockRow {
  project_id: string;
  resource: string;
}

export interface AgentRow {
  id: string;
  agent_type: string;
  binary: string;
  topic: string;
  host: string;
  admin_state_up: number;
  availability_zone: string | null;
  configurations: string;
  description: string | null;
  created_at: string;
  started_at: string;
  heartbeat_at: string;
}

export interface NetworkTables {
  net_network: NetworkRow;
  net_subnet: SubnetRow;
  net_port: PortRow;
  net_ip_allocation: IpAllocationRow;
  net_port_security_group: PortSecurityGroupRow;
  net_router: RouterRow;
  net_floatingip: FloatingIpRow;
  net_port_forwarding: PortForwardingRow;
  net_security_group: SecurityGroupRow;
  net_default_security_group: DefaultSecurityGroupRow;
  net_security_group_rule: SecurityGroupRuleRow;
  net_subnetpool: SubnetPoolRow;
  net_rbac: RbacRow;
  net_tag: TagRow;
  net_quota: QuotaRow;
  net_quota_lock: QuotaLockRow;
  net_agent: AgentRow;
}

export type NetDb = Kysely<NetworkTables>;
/** A connection or a transaction: repositories work inside either. */
export type NetQ = Kysely<NetworkTables> | Transaction<NetworkTables>;

export function networkDb(database: Database): NetDb {
  return database.db as NetDb;
}
