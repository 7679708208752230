import { parseCidr, parseIp, formatIp, formatCidr } from '../ip/ip-address.js';
import { convertEthertype, convertIpPrefix, convertPort, convertProtocol } from '../service/sg-rule-rules.js';
import {
  any,
  bool,
  dict,
  int,
  ipAddress,
  list,
  mac,
  noDuplicates,
  nullableDict,
  nullableInt,
  nullableIp,
  nullableStr,
  nullableUuid,
  nullToEmptyList,
  oneOf,
  projectId,
  str,
  uuid,
  validationFailure as fail,
  type AttrRules,
  type Converter,
} from './attributes.js';

/**
 * What each resource accepts in POST and PUT bodies (Neutron's attribute
 * maps, for the extensions this service advertises).
 */

const owner: AttrRules = { tenant_id: { post: true, convert: projectId }, project_id: { post: true, convert: projectId } };
const description: AttrRules = { description: { post: true, put: true, convert: str(255) } };
const name: AttrRules = { name: { post: true, put: true, convert: str(255) } };

/** Neutron's type:subnet: IPv4 must be written canonically (host bits allowed). */
export const subnetCidr: Converter = (v) => {
  if (typeof v !== 'string') return fail(`'${String(v)}' is not a valid IP subnet`);
  const c = parseCidr(v);
  if (!c) return fail(`'${v}' is not a valid IP subnet`);
  const asWritten = `${formatIp(c.version, c.address)}/${c.prefix}`;
  if (!v.includes('/') || (c.version === 4 && asWritten !== v)) return fail(`'${v}' isn't a recognized IP subnet cidr, '${formatCidr(c)}' is recommended`);
  return v;
};

const dictOf =
  (keys: Record<string, Converter>, required: string[] = [], exact = false): Converter =>
  (v, a) => {
    const d = dict(v, a) as Record<string, unknown>;
    const unknown = Object.keys(d).filter((k) => !(k in keys));
    if (unknown.length) return fail(`Unexpected keys supplied: ${unknown.join(', ')}`);
    for (const r of required) if (!(r in d)) return fail(`Validation of dictionary's keys failed. Expected keys: ${JSON.stringify(exact ? Object.keys(keys) : required)} Provided keys: ${JSON.stringify(Object.keys(d))}`);
    const out: Record<string, unknown> = {};
    for (const [k, conv] of Object.entries(keys)) if (k in d) out[k] = conv(d[k], k);
    return out;
  };

const pools = list(dictOf({ start: ipAddress, end: ipAddress }, ['start', 'end'], true));
const hostRoutes: Converter = (v, a) => {
  const routes = list(dictOf({ destination: subnetCidr, nexthop: ipAddress }, ['destination', 'nexthop'], true))(v, a) as Array<Record<string, string>>;
  noDuplicates(routes, (r) => `${r['destination']}-${r['nexthop']}`);
  return routes;
};
const nameservers: Converter = (v, a) => {
  const out = list((x) => {
    if (typeof x !== 'string' || !parseIp(x)) return fail(`'${String(x)}' is not a valid nameserver`);
    return x;
  })(v, a) as string[];
  noDuplicates(out, (x) => x);
  return out;
};
const ipv6Mode = (v: unknown, a: string) => (v === null ? null : oneOf(['dhcpv6-stateful', 'dhcpv6-stateless', 'slaac'])(v, a));

export const networkAttrs: AttrRules = {
  ...name,
  ...description,
  ...owner,
  admin_state_up: { post: true, put: true, convert: bool },
  shared: { post: true, put: true, convert: bool },
  'router:external': { post: true, put: true, convert: bool },
  port_security_enabled: { post: true, put: true, convert: bool },
  'provider:network_type': { post: true, put: true, convert: str(32) },
  'provider:physical_network': { post: true, put: true, convert: nullableStr(64) },
  'provider:segmentation_id': { post: true, put: true, convert: nullableInt() },
  availability_zone_hints: { post: true, convert: list(str(255)) },
  mtu: {},
  status: {},
  subnets: {},
  id: {},
};

export const subnetAttrs: AttrRules = {
  ...name,
  ...description,
  ...owner,
  network_id: { post: true, required: true, convert: uuid },
  ip_version: {
    post: true,
    required: true,
    convert: (v, a) => {
      const n = int()(v, a) as number;
      return n === 4 || n === 6 ? n : fail(`'${n}' is not in [4, 6]`);
    },
  },
  cidr: { post: true, convert: subnetCidr },
  prefixlen: { post: true, convert: int(0, 128) },
  subnetpool_id: { post: true, convert: nullableUuid },
  use_default_subnetpool: { post: true, convert: bool },
  gateway_ip: { post: true, put: true, convert: nullableIp },
  allocation_pools: { post: true, put: true, convert: pools },
  dns_nameservers: { post: true, put: true, convert: (v, a) => (v === null ? [] : nameservers(v, a)) },
  host_routes: { post: true, put: true, convert: (v, a) => (v === null ? [] : hostRoutes(v, a)) },
  enable_dhcp: { post: true, put: true, convert: bool },
  ipv6_ra_mode: { post: true, convert: ipv6Mode },
  ipv6_address_mode: { post: true, convert: ipv6Mode },
  id: {},
};

const fixedIps = list(
  dictOf({
    subnet_id: uuid,
    ip_address: (v, a) => {
      if (typeof v !== 'string' || !parseIp(v)) return fail(`'${String(v)}' is not a valid IP address`);
      return v;
    },
  }),
);

export const portAttrs: AttrRules = {
  ...name,
  ...description,
  ...owner,
  network_id: { post: true, required: true, convert: uuid },
  admin_state_up: { post: true, put: true, convert: bool },
  mac_address: { post: true, put: true, convert: mac },
  fixed_ips: { post: true, put: true, convert: (v, a) => (v === null ? [] : fixedIps(v, a)) },
  device_id: { post: true, put: true, convert: str(255) },
  device_owner: { post: true, put: true, convert: str(255) },
  security_groups: { post: true, put: true, convert: nullToEmptyList(uuid) },
  port_security_enabled: { post: true, put: true, convert: bool },
  allowed_address_pairs: { post: true, put: true, convert: (v, a) => (v === null ? [] : list(any)(v, a)) },
  extra_dhcp_opts: { post: true, put: true, convert: (v, a) => (v === null ? [] : list(any)(v, a)) },
  'binding:host_id': { post: true, put: true, convert: (v, a) => (v === null ? '' : str(255)(v, a)) },
  'binding:profile': { post: true, put: true, convert: (v, a) => (v === null ? {} : nullableDict(v, a)) },
  'binding:vnic_type': {
    post: true,
    put: true,
    convert: oneOf(['normal', 'direct', 'macvtap', 'baremetal', 'direct-physical', 'virtio-forwarder', 'smart-nic', 'vdpa', 'accelerator-direct', 'accelerator-direct-physical', 'remote-managed']),
  },
  tags: { post: true, convert: list(str(255)) },
  id: {},
  status: {},
};

const gatewayInfo: Converter = (v, a) => {
  if (v === null) return null;
  return dictOf({
    network_id: uuid,
    enable_snat: bool,
    external_fixed_ips: (x, k) =>
      (list(
        dictOf({
          subnet_id: uuid,
          ip_address: ipAddress,
        }),
      )(x, k)),
  })(v, a);
};

export const routerAttrs: AttrRules = {
  ...name,
  ...description,
  ...owner,
  admin_state_up: { post: true, put: true, convert: bool },
  external_gateway_info: { post: true, put: true, convert: gatewayInfo },
  routes: {
    put: true,
    convert: (v, a) => {
      if (v === null) return [];
      const routes = list(dictOf({ destination: (x) => x, nexthop: (x) => x }, ['destination', 'nexthop'], true))(v, a) as Array<Record<string, unknown>>;
      for (const r of routes) {
        if (typeof r['destination'] !== 'string' || !parseCidr(r['destination'], { requirePrefix: true })) return fail(`'${String(r['destination'])}' is not a valid IP subnet`);
        if (typeof r['nexthop'] !== 'string' || !parseIp(r['nexthop'])) return fail(`'${String(r['nexthop'])}' is not a valid IP address`);
      }
      return routes;
    },
  },
  availability_zone_hints: { post: true, convert: list(str(255)) },
  id: {},
  status: {},
};

export const floatingipAttrs: AttrRules = {
  ...description,
  ...owner,
  floating_network_id: { post: true, required: true, convert: uuid },
  floating_ip_address: { post: true, convert: ipAddress },
  subnet_id: { post: true, convert: nullableUuid },
  port_id: { post: true, put: true, convert: nullableUuid },
  fixed_ip_address: { post: true, put: true, convert: nullableIp },
  id: {},
};

export const securityGroupAttrs: AttrRules = {
  ...name,
  ...description,
  ...owner,
  stateful: { post: true, put: true, convert: bool },
  id: {},
};

export const securityGroupRuleAttrs: AttrRules = {
  ...owner,
  description: { post: true, convert: str(255) },
  security_group_id: { post: true, required: true, convert: (v) => (typeof v === 'string' ? v : fail(`'${String(v)}' is not a valid UUID`)) },
  direction: { post: true, required: true, convert: oneOf(['ingress', 'egress']) },
  ethertype: { post: true, convert: (v) => convertEthertype(v) },
  protocol: { post: true, convert: (v) => convertProtocol(v) },
  port_range_min: { post: true, convert: (v) => convertPort(v) },
  port_range_max: { post: true, convert: (v) => convertPort(v) },
  remote_ip_prefix: { post: true, convert: (v) => convertIpPrefix(v) },
  remote_group_id: { post: true, convert: (v) => (v === null ? null : String(v)) },
  id: {},
};

export const subnetpoolAttrs: AttrRules = {
  ...description,
  ...owner,
  name: { post: true, put: true, required: true, convert: str(255) },
  prefixes: { post: true, put: true, required: true, convert: list(subnetCidr) },
  default_prefixlen: { post: true, put: true, convert: int(0, 128) },
  min_prefixlen: { post: true, put: true, convert: int(0, 128) },
  max_prefixlen: { post: true, put: true, convert: int(0, 128) },
  default_quota: { post: true, put: true, convert: nullableInt(0) },
  is_default: { post: true, put: true, convert: bool },
  shared: { post: true, convert: bool },
  address_scope_id: { post: true, put: true, convert: nullableUuid },
  id: {},
  ip_version: {},
};

export const rbacAttrs: AttrRules = {
  ...owner,
  object_type: { post: true, required: true, convert: str(255) },
  object_id: { post: true, required: true, convert: uuid },
  action: { post: true, required: true, convert: str(255) },
  target_tenant: { post: true, put: true, required: true, convert: str(255) },
  id: {},
};

const port: Converter = int(1, 65535);
export const portForwardingAttrs: AttrRules = {
  description: { post: true, put: true, convert: str(255) },
  external_port: { post: true, put: true, required: true, convert: port },
  internal_port: { post: true, put: true, required: true, convert: port },
  internal_ip_address: { post: true, put: true, required: true, convert: ipAddress },
  protocol: { post: true, put: true, required: true, convert: oneOf(['tcp', 'udp', 'sctp', 'dccp', 'icmp', 'ipv6-icmp']) },
  internal_port_id: { post: true, put: true, required: true, convert: uuid },
  id: {},
};

export const agentAttrs: AttrRules = {
  admin_state_up: { put: true, convert: bool },
  description: { put: true, convert: nullableStr(255) },
};
