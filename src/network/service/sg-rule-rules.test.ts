import assert from 'node:assert/strict';
import { test } from 'node:test';
import { convertIpPrefix, convertPort, convertProtocol, ruleFingerprint, validateRule, type RuleInput } from './sg-rule-rules.js';

const base: RuleInput = {
  direction: 'ingress',
  ethertype: 'IPv4',
  protocol: null,
  port_range_min: null,
  port_range_max: null,
  remote_ip_prefix: null,
  remote_group_id: null,
  remote_address_group_id: null,
};

const fails = (r: Partial<RuleInput>, message: RegExp) => assert.throws(() => validateRule({ ...base, ...r }), (e: Error) => message.test(e.message));

test('protocols, ports and prefixes convert like Neutron', () => {
  assert.equal(convertProtocol('TCP'), 'tcp');
  assert.equal(convertProtocol(17), '17');
  assert.throws(() => convertProtocol('bad'), /protocol bad not supported/);
  assert.throws(() => convertProtocol(256), /not supported/);
  assert.equal(convertPort('22'), 22);
  assert.throws(() => convertPort(-16), /Invalid value for port -16/);
  assert.throws(() => convertPort(65536), /Invalid value for port 65536/);
  assert.equal(convertIpPrefix('10.0.0.5'), '10.0.0.5/32');
  assert.equal(convertIpPrefix('10.100.0.0/16'), '10.100.0.0/16');
  for (const bad of ['192.168.1./24', '192.168.1.1/33', 'bad_prefix', '256']) assert.throws(() => convertIpPrefix(bad), /Invalid CIDR/);
});

test('rule validation order and messages', () => {
  fails({ port_range_min: 22 }, /Must also specify protocol if port range is given/);
  fails({ protocol: 'tcp', port_range_min: 0, port_range_max: 10 }, /Invalid value for port 0/);
  fails({ protocol: 'tcp', port_range_min: 30, port_range_max: 10 }, /port_range_min must be <= port_range_max/);
  fails({ protocol: 'icmp', port_range_min: 300 }, /Invalid value for ICMP type \(port_range_min\) 300/);
  fails({ protocol: 'icmp', port_range_min: 8, port_range_max: 256 }, /Invalid value for ICMP code \(port_range_max\) 256/);
  fails({ protocol: 'icmp', port_range_max: 6 }, /ICMP type \(port-range-min\) is missing/);
  fails({ protocol: 'gre', port_range_min: 1, port_range_max: 2 }, /Ports cannot be specified for protocol 47/);
  fails({ ethertype: 'IPv6', remote_ip_prefix: '10.100.0.0/16' }, /Conflicting value ethertype IPv6 for CIDR 10.100.0.0\/16/);
  fails({ protocol: 'ipv6-icmp' }, /Invalid ethertype IPv4 for protocol ipv6-icmp/);
  fails({ remote_ip_prefix: '10.0.0.0/8', remote_group_id: 'g' }, /Only one of remote_ip_prefix or remote_group_id/);
  assert.equal(validateRule({ ...base, ethertype: 'IPv6', protocol: 'icmp' }).protocol, 'ipv6-icmp');
  const full = validateRule({ ...base, protocol: 'tcp', port_range_min: 1, port_range_max: 65535 });
  assert.equal(full.port_range_min, null, 'the whole range means no range');
});

test('duplicates are found across equivalent spellings', () => {
  const a = ruleFingerprint({ ...base, protocol: 'tcp', port_range_min: 22, port_range_max: 22 });
  const b = ruleFingerprint({ ...base, protocol: '6', port_range_min: 22, port_range_max: 22 });
  assert.equal(a, b);
  assert.equal(ruleFingerprint({ ...base, remote_ip_prefix: '0.0.0.0/0' }), ruleFingerprint(base));
  assert.notEqual(ruleFingerprint({ ...base, direction: 'egress' }), ruleFingerprint(base));
});
