import assert from 'node:assert/strict';
import { test } from 'node:test';
import { canonicalIp, excludeFromRanges, formatCidr, mergeCidrs, parseCidr, parseIp } from './ip-address.js';
import { eui64Address, normalizeMac, randomMac } from './mac.js';

test('IPv4 parsing is strict', () => {
  assert.equal(canonicalIp('10.0.0.1'), '10.0.0.1');
  for (const bad of ['10.0.0', '10.0.0.256', '192.168.1.', 'bad', '1.2.3.4.5', '01.2.3.4444', '']) assert.equal(parseIp(bad), null, bad);
});

test('IPv6 canonical form matches inet_ntop (RFC 5952)', () => {
  assert.equal(canonicalIp('2001:DB8:0:0:0:0:0:1'), '2001:db8::1');
  assert.equal(canonicalIp('2001:db8:0:1:0:0:0:1'), '2001:db8:0:1::1');
  assert.equal(canonicalIp('2001:db8:0:ffff::'), '2001:db8:0:ffff::');
  assert.equal(canonicalIp('::'), '::');
  assert.equal(canonicalIp('::1'), '::1');
  assert.equal(canonicalIp('1:0:1:1:1:1:1:1'), '1:0:1:1:1:1:1:1');
  assert.equal(canonicalIp('::ffff:10.0.0.1'), '::ffff:10.0.0.1');
  for (const bad of ['1::2::3', '12345::', 'g::1', '1:2:3:4:5:6:7:8:9', ':::']) assert.equal(parseIp(bad), null, bad);
});

test('CIDRs keep the network form and detect bad prefixes', () => {
  assert.equal(formatCidr(parseCidr('10.0.0.5/24')!), '10.0.0.0/24');
  assert.equal(formatCidr(parseCidr('2001:db8::/48')!), '2001:db8::/48');
  assert.equal(parseCidr('192.168.1.1/33'), null);
  assert.equal(parseCidr('10.0.0.0', { requirePrefix: true }), null);
  assert.equal(formatCidr(parseCidr('10.0.0.5')!), '10.0.0.5/32');
});

test('ranges split around an excluded address and CIDRs merge', () => {
  const r = excludeFromRanges([{ start: 1n, end: 10n }], 5n);
  assert.deepEqual(r, [
    { start: 1n, end: 4n },
    { start: 6n, end: 10n },
  ]);
  const merged = mergeCidrs([parseCidr('10.0.0.0/25')!, parseCidr('10.0.0.128/25')!, parseCidr('10.0.1.0/24')!]);
  assert.deepEqual(merged.map(formatCidr), ['10.0.0.0/23']);
});

test('MACs normalise and EUI-64 follows netutils', () => {
  assert.equal(normalizeMac('FA-16-3E-12-34-56'), 'fa:16:3e:12:34:56');
  assert.equal(normalizeMac('fa163e123456'), 'fa:16:3e:12:34:56');
  assert.equal(normalizeMac('01:00:5e:00:00:01'), null);
  assert.match(randomMac(), /^fa:16:3e(:[0-9a-f]{2}){3}$/);
  const prefix = parseCidr('2001:db8::/64')!.network;
  assert.equal(canonicalIp(formatFrom(eui64Address(prefix, 'fa:16:3e:12:34:56'))), '2001:db8::f816:3eff:fe12:3456');
});

function formatFrom(v: bigint): string {
  const hex = v.toString(16).padStart(32, '0');
  return hex.match(/.{4}/g)!.join(':');
}
