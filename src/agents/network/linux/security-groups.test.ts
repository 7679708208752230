import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildFirewallRules } from './security-groups.js';
import type { DesiredState, DpPort } from './model.js';
import { Names } from './names.js';

const p = (id: string, ip: string, mac: string, sgs: string[], extra: Partial<DpPort> = {}): DpPort => ({
  id, networkId: 'n', mac, fixedIps: [{ subnetId: 's', ip }], deviceOwner: 'compute:nova', deviceId: id, projectId: 'p', securityGroupIds: sgs, portSecurityEnabled: true, allowedAddressPairs: [], ...extra,
});
const a = p('aaaaaaaa-1111', '10.0.0.5', 'fa:16:3e:00:00:05', ['sg1'], { allowedAddressPairs: [{ ipAddress: '10.0.0.100/30', macAddress: 'fa:16:3e:00:00:99' }] });
const b = p('bbbbbbbb-2222', '10.0.0.6', 'fa:16:3e:00:00:06', ['sg2']);
const c = p('cccccccc-3333', '10.0.0.7', 'fa:16:3e:00:00:07', [], { portSecurityEnabled: false });
const d: DesiredState = {
  networks: [],
  ports: [a, b, c],
  routers: [],
  securityGroups: [
    { id: 'sg1', rules: [
      { id: 'r1', direction: 'ingress', ethertype: 'IPv4', protocol: 'tcp', portRangeMin: 22, portRangeMax: 22, remoteIpPrefix: '0.0.0.0/0' },
      { id: 'r2', direction: 'ingress', ethertype: 'IPv4', protocol: 'tcp', portRangeMin: 8000, portRangeMax: 8080, remoteGroupId: 'sg2' },
      { id: 'r3', direction: 'ingress', ethertype: 'IPv4', protocol: 'icmp', portRangeMin: 8, portRangeMax: 0 },
      { id: 'r4', direction: 'egress', ethertype: 'IPv4', remoteIpPrefix: '192.168.0.0/16' },
      { id: 'r5', direction: 'ingress', ethertype: 'IPv6', protocol: 'icmp' },
    ] },
    { id: 'sg2', rules: [] },
  ],
};

test('per-port chains: physdev dispatch, default deny, rules, remote group ipset', () => {
  const r = buildFirewallRules(d);
  const v4 = r.iptables[4];
  const ta = Names.tap(a.id);
  assert.match(v4, new RegExp(`-A nb-FORWARD -m physdev --physdev-in ${ta} --physdev-is-bridged -j ${Names.chainOut(a.id)}`));
  assert.match(v4, new RegExp(`-A nb-FORWARD -m physdev --physdev-out ${ta} --physdev-is-bridged -j ${Names.chainIn(a.id)}`));
  const ina = v4.split('\n').filter((l) => l.startsWith(`-A ${Names.chainIn(a.id)} `)).map((l) => l.slice(`-A ${Names.chainIn(a.id)} `.length));
  assert.deepEqual(ina, [
    '-m conntrack --ctstate RELATED,ESTABLISHED -j RETURN',
    '-m conntrack --ctstate INVALID -j DROP',
    '-p udp -m udp --sport 67 --dport 68 -j RETURN',
    '-p tcp -m tcp --dport 22 -j RETURN',
    `-m set --match-set ${Names.ipset(4, 'sg2')} src -p tcp -m tcp --dport 8000:8080 -j RETURN`,
    '-p icmp -m icmp --icmp-type 8/0 -j RETURN',
    '-j DROP',
  ]);
  assert.deepEqual(r.ipsets.get(Names.ipset(4, 'sg2')), { family: 4, members: ['10.0.0.6/32'] });
  // Egress: DHCP, spoof check, rule by destination, then deny.
  assert.match(v4, new RegExp(`-A ${Names.chainOut(a.id)} -d 192.168.0.0/16 -j RETURN\n-A ${Names.chainOut(a.id)} -j DROP`));
  // Anti-spoofing: own IP+MAC and the allowed pair with its own MAC.
  assert.match(v4, new RegExp(`-A ${Names.chainSpoof(a.id)} -s 10.0.0.5/32 -m mac --mac-source fa:16:3e:00:00:05 -j RETURN`));
  assert.match(v4, new RegExp(`-A ${Names.chainSpoof(a.id)} -s 10.0.0.100/30 -m mac --mac-source fa:16:3e:00:00:99 -j RETURN`));
  // Port security off: accepted, no chains.
  assert.match(v4, new RegExp(`--physdev-in ${Names.tap(c.id)} --physdev-is-bridged -j ACCEPT`));
  assert.doesNotMatch(v4, new RegExp(Names.chainIn(c.id)));
  // IPv6 ICMP rule lands only in the v6 set, as ipv6-icmp.
  assert.match(r.iptables[6], /-A nb-i\S+ -p ipv6-icmp -j RETURN/);
  assert.doesNotMatch(v4, /ipv6-icmp/);
});

test('nft anti-spoof table: MAC and ARP sender checks per secured port', () => {
  const { nft } = buildFirewallRules(d);
  assert.match(nft, new RegExp(`iifname "${Names.tap(a.id)}" jump`));
  assert.match(nft, /ether saddr != \{ fa:16:3e:00:00:05, fa:16:3e:00:00:99 \} drop/);
  assert.match(nft, /arp saddr ip != \{ 0\.0\.0\.0, 10\.0\.0\.5, 10\.0\.0\.100\/30 \} drop/);
  assert.doesNotMatch(nft, new RegExp(Names.tap(c.id)));
});

test('removed rules turn into conntrack deletions for the port\'s flows', async () => {
  const { conntrackDeletions, portRuleKeys } = await import('./security-groups.js');
  const before = portRuleKeys(d);
  const after = portRuleKeys({ ...d, securityGroups: [{ id: 'sg1', rules: d.securityGroups[0]!.rules.filter((r) => r.id !== 'r1' && r.id !== 'r3') }, d.securityGroups[1]!] });
  assert.deepEqual(conntrackDeletions(before, after), [
    ['-D', '-f', 'ipv4', '-d', '10.0.0.5', '-p', 'tcp', '--dport', '22'],
    ['-D', '-f', 'ipv4', '-d', '10.0.0.5', '-p', 'icmp'],
  ]);
  assert.deepEqual(conntrackDeletions(before, before), []);
});
