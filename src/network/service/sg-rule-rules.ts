import { formatCidr, parseCidr } from '../ip/ip-address.js';
import { bad } from './faults.js';

/**
 * Security group rule validation and normalisation, in Neutron's order and
 * with its messages (clients and Tempest match on them).
 */

export const IP_PROTOCOL_MAP: Record<string, number> = {
  ah: 51,
  dccp: 33,
  egp: 8,
  esp: 50,
  gre: 47,
  hopopt: 0,
  icmp: 1,
  igmp: 2,
  ip: 0,
  ipip: 4,
  'ipv6-encap': 41,
  'ipv6-frag': 44,
  'ipv6-icmp': 58,
  icmpv6: 58,
  'ipv6-nonxt': 59,
  'ipv6-opts': 60,
  'ipv6-route': 43,
  ospf: 89,
  pgm: 113,
  rsvp: 46,
  sctp: 132,
  tcp: 6,
  udp: 17,
  udplite: 136,
  vrrp: 112,
};
const NUM_TO_NAME: Record<string, string> = Object.fromEntries(
  Object.entries(IP_PROTOCOL_MAP)
    .filter(([k]) => k !== 'icmpv6')
    .map(([k, v]) => [String(v), k]),
);
const PORT_PROTOCOLS = ['tcp', 'udp', 'udplite', 'sctp', 'dccp'];
const PORT_PROTOCOL_NUMS = PORT_PROTOCOLS.map((p) => IP_PROTOCOL_MAP[p]!);
const IPV6_ONLY = ['ipv6-encap', 'ipv6-frag', 'ipv6-icmp', 'icmpv6', 'ipv6-nonxt', 'ipv6-opts', 'ipv6-route', '41', '44', '58', '59', '60', '43'];
const SUPPORTED = `[None, ${Object.keys(IP_PROTOCOL_MAP)
  .map((p) => `'${p}'`)
  .join(', ')}]`;

export interface RuleInput {
  direction: string;
  ethertype: string;
  protocol: string | null;
  port_range_min: number | null;
  port_range_max: number | null;
  remote_ip_prefix: string | null;
  remote_group_id: string | null;
  remote_address_group_id: string | null;
}

/** `protocol` converter: names lower-cased, numbers 0-255 kept as strings. */
export function convertProtocol(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  const s = String(value);
  if (/^-?\d+$/.test(s.trim()) && typeof value !== 'boolean') {
    const n = Number(s);
    if (n >= 0 && n <= 255) return s;
  } else if (typeof value === 'string' && value.toLowerCase() in IP_PROTOCOL_MAP) {
    return value.toLowerCase();
  }
  throw bad(
    'SecurityGroupRuleInvalidProtocol',
    `Security group rule protocol ${s} not supported. Only protocol values ${SUPPORTED} and integer representations [0 to 255] are supported.`,
  );
}

export function convertEthertype(value: unknown): string {
  if (typeof value === 'string') {
    for (const e of ['IPv4', 'IPv6']) if (e.toLowerCase() === value.toLowerCase()) return e;
  }
  throw bad('SecurityGroupRuleInvalidEtherType', `Security group rule for ethertype '${String(value)}' not supported. Allowed values are ['IPv4', 'IPv6'].`);
}

export function convertPort(value: unknown): number | null {
  if (value === null || value === undefined) return null;
  const s = String(value);
  if (/^\d+$/.test(s.trim())) {
    const n = Number(s);
    if (n >= 0 && n <= 65535) return n;
  }
  throw bad('SecurityGroupInvalidPortValue', `Invalid value for port ${s}`);
}

export function convertIpPrefix(value: unknown): string | null {
  if (value === null || value === undefined || value === '') return null;
  const c = typeof value === 'string' ? parseCidr(value) : null;
  if (!c) throw bad('InvalidCIDR', `Invalid CIDR ${String(value)} given as IP prefix.`);
  // netaddr keeps the host bits and always shows the mask: 10.0.0.5 → 10.0.0.5/32.
  return `${formatCidr({ version: c.version, network: c.address, prefix: c.prefix })}`;
}

function protocolNumber(protocol: string): number {
  const p = protocol === 'icmpv6' ? 'ipv6-icmp' : protocol;
  return p in IP_PROTOCOL_MAP ? IP_PROTOCOL_MAP[p]! : Number(p);
}

/** Canonicalises and validates a converted rule; returns the rule to store. */
export function validateRule(rule: RuleInput): RuleInput {
  const r = { ...rule };
  if (r.ethertype === 'IPv6') {
    if (r.protocol === 'icmp' || r.protocol === 'icmpv6') r.protocol = 'ipv6-icmp';
    else if (r.protocol === '1') r.protocol = '58';
  }
  if (r.port_range_min === 1 && r.port_range_max === 65535) {
    r.port_range_min = null;
    r.port_range_max = null;
  }
  if (r.port_range_min !== null || r.port_range_max !== null) {
    if (!r.protocol) throw bad('SecurityGroupProtocolRequiredWithPorts', 'Must also specify protocol if port range is given.');
    const num = protocolNumber(r.protocol);
    if (PORT_PROTOCOL_NUMS.includes(num)) {
      if (r.port_range_min === 0 || r.port_range_max === 0) throw bad('SecurityGroupInvalidPortValue', 'Invalid value for port 0');
      if (r.port_range_min === null || r.port_range_max === null || r.port_range_min > r.port_range_max) {
        throw bad('SecurityGroupInvalidPortRange', 'For TCP/UDP protocols, port_range_min must be <= port_range_max');
      }
    } else if (num === 1 || num === 58) {
      for (const [attr, field] of [
        ['port_range_min', 'type'],
        ['port_range_max', 'code'],
      ] as const) {
        const v = r[attr];
        if (v !== null && !(v >= 0 && v <= 255)) {
          throw bad('SecurityGroupInvalidIcmpValue', `Invalid value for ICMP ${field} (${attr}) ${v}. It must be 0 to 255.`);
        }
      }
      if (r.port_range_min === null && r.port_range_max !== null) {
        throw bad('SecurityGroupMissingIcmpType', `ICMP code (port-range-max) ${r.port_range_max} is provided but ICMP type (port-range-min) is missing.`);
      }
    } else {
      throw bad(
        'SecurityGroupInvalidProtocolForPort',
        `Ports cannot be specified for protocol ${num}. Ports are only supported for ${PORT_PROTOCOLS.map((p) => p.toUpperCase()).join(', ')}.`,
      );
    }
  }
  if (r.remote_ip_prefix) {
    const c = parseCidr(r.remote_ip_prefix)!;
    if (r.ethertype !== `IPv${c.version}`) {
      throw bad('SecurityGroupRuleParameterConflict', `Conflicting value ethertype ${r.ethertype} for CIDR ${rule.remote_ip_prefix}`);
    }
  }
  if (r.protocol && IPV6_ONLY.includes(r.protocol) && r.ethertype === 'IPv4') {
    throw bad('SecurityGroupEthertypeConflictWithProtocol', `Invalid ethertype ${r.ethertype} for protocol ${r.protocol}.`);
  }
  const remotes = [r.remote_ip_prefix, r.remote_group_id, r.remote_address_group_id].filter((x) => x);
  if (remotes.length > 1) {
    throw bad('SecurityGroupMultipleRemoteEntites', 'Only one of remote_ip_prefix or remote_group_id or remote_address_group_id may be provided.');
  }
  return r;
}

export function normalizedCidr(prefix: string | null): string | null {
  if (!prefix) return null;
  const c = parseCidr(prefix);
  return c ? formatCidr(c) : null;
}

/** The duplicate-detection key of a rule (Neutron's _rule_to_key; tcp == 6, 0.0.0.0/0 == none). */
export function ruleFingerprint(r: RuleInput): string {
  const none = '+';
  const proto = (p: string | null) => {
    if (p === null) return none;
    const name = p in IP_PROTOCOL_MAP ? (p === 'icmpv6' ? 'ipv6-icmp' : p) : (NUM_TO_NAME[p] ?? p);
    const num = p in IP_PROTOCOL_MAP ? String(IP_PROTOCOL_MAP[p]) : p;
    return `${name}/${num}`;
  };
  const prefix = r.remote_ip_prefix === null || r.remote_ip_prefix === '0.0.0.0/0' || r.remote_ip_prefix === '::/0' ? none : r.remote_ip_prefix;
  const v = (x: unknown) => (x === null || x === undefined ? none : String(x));
  return [r.direction, r.ethertype, v(r.port_range_max), v(r.port_range_min), proto(r.protocol), v(r.remote_group_id), v(r.remote_address_group_id), prefix].join('_');
}
