import { createHash } from 'node:crypto';
import type { MetadataInstance } from './metadata-source.js';

/**
 * The metadata documents Nova serves (nova/api/metadata/base.py), built from
 * a MetadataInstance: the EC2-style tree under /<version>/meta-data/ and the
 * OpenStack JSON documents under /openstack/<version>/.
 */

export const EC2_VERSIONS = ['1.0', '2007-01-19', '2007-03-01', '2007-08-29', '2007-10-10', '2007-12-15', '2008-02-01', '2008-09-01', '2009-04-04'];
export const OPENSTACK_VERSIONS = ['2012-08-10', '2013-04-04', '2013-10-17', '2015-10-15', '2016-06-30', '2016-10-06', '2017-02-22', '2018-08-27', '2020-10-14'];

/** A directory in the EC2 tree: values are leaves (text) or subdirectories. */
export interface Ec2Dir {
  [key: string]: string | Ec2Dir;
}

export function ec2InstanceId(i: MetadataInstance): string {
  return `i-${i.ec2Id.toString(16).padStart(8, '0')}`;
}

/** A stable EC2-style image id derived from the image uuid. */
export function ec2ImageId(imageId: string | undefined): string {
  if (!imageId) return 'ami-00000000';
  return `ami-${createHash('sha1').update(imageId).digest('hex').slice(0, 8)}`;
}

export function fqdn(i: MetadataInstance, domain: string): string {
  return domain ? `${i.hostname}.${domain}` : i.hostname;
}

function fixedIpv4(i: MetadataInstance): string {
  for (const n of i.nics) for (const ip of n.ips) if (ip.version === 4) return ip.address;
  return '';
}

export function ec2MetaData(i: MetadataInstance, domain: string): Ec2Dir {
  const host = fqdn(i, domain);
  const keys: Ec2Dir = {};
  i.keys.forEach((k, idx) => {
    keys[String(idx)] = { 'openssh-key': k.data };
  });
  return {
    'ami-id': ec2ImageId(i.imageId),
    'ami-launch-index': String(i.launchIndex),
    'ami-manifest-path': 'FIXME',
    'block-device-mapping': { ami: 'vda', root: '/dev/vda' },
    hostname: host,
    'instance-action': 'none',
    'instance-id': ec2InstanceId(i),
    'instance-type': i.flavorName,
    'local-hostname': host,
    'local-ipv4': fixedIpv4(i),
    placement: { 'availability-zone': i.availabilityZone },
    'public-hostname': host,
    'public-ipv4': i.floatingIps[0] ?? '',
    'public-keys': keys,
    'reservation-id': i.reservationId,
    'security-groups': i.securityGroups.join('\n'),
  };
}

/** Lines of a directory listing, as Nova prints them (subdirectories end with '/'). */
export function listing(dir: Ec2Dir, path: string[], i: MetadataInstance): string {
  // public-keys/ lists "<index>=<key name>" (EC2's format), not the subdirectory names.
  if (path.length === 1 && path[0] === 'public-keys') return i.keys.map((k, idx) => `${idx}=${k.name}`).join('\n');
  return Object.entries(dir)
    .map(([k, v]) => (typeof v === 'string' ? k : `${k}/`))
    .sort()
    .join('\n');
}

function mask4(prefix: number): string {
  const m = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  return [24, 16, 8, 0].map((s) => (m >>> s) & 255).join('.');
}

export function metaDataJson(i: MetadataInstance, domain: string, version: string): Record<string, unknown> {
  const doc: Record<string, unknown> = {
    uuid: i.uuid,
    meta: i.meta,
    public_keys: Object.fromEntries(i.keys.map((k) => [k.name, k.data])),
    keys: i.keys.map((k) => ({ name: k.name, type: k.type, data: k.data })),
    hostname: fqdn(i, domain),
    name: i.name,
    launch_index: i.launchIndex,
    availability_zone: i.availabilityZone,
    random_seed: createHash('sha512').update(`${i.uuid}:${Date.now()}:${Math.random()}`).digest('base64'),
    project_id: i.projectId,
    devices: [],
  };
  if (version === 'latest' || version >= '2020-10-14') doc['dedicated_cpus'] = [];
  return doc;
}

export function networkDataJson(i: MetadataInstance): Record<string, unknown> {
  const links: Record<string, unknown>[] = [];
  const networks: Record<string, unknown>[] = [];
  const services = new Map<string, Record<string, unknown>>();
  let n = 0;
  for (const nic of i.nics) {
    const linkId = `tap${nic.portId.slice(0, 11)}`;
    links.push({ id: linkId, vif_id: nic.portId, type: 'bridge', mtu: nic.mtu ?? null, ethernet_mac_address: nic.mac });
    for (const ip of nic.ips) {
      const id = `network${n++}`;
      const dns = (ip.dnsNameservers ?? []).map((a) => ({ type: 'dns', address: a }));
      for (const s of dns) services.set(s.address, s);
      if (ip.dhcp) {
        networks.push({ id, type: `ipv${ip.version}_dhcp`, link: linkId, network_id: nic.networkId });
        continue;
      }
      const prefix = Number(ip.cidr.split('/')[1]);
      const routes: Record<string, unknown>[] = [];
      if (ip.gateway) routes.push(ip.version === 4 ? { network: '0.0.0.0', netmask: '0.0.0.0', gateway: ip.gateway } : { network: '::', netmask: '::', gateway: ip.gateway });
      for (const r of ip.hostRoutes ?? []) {
        const [net, len] = r.destination.split('/');
        routes.push({ network: net, netmask: ip.version === 4 ? mask4(Number(len)) : len, gateway: r.nexthop });
      }
      networks.push({
        id,
        type: `ipv${ip.version}`,
        link: linkId,
        ip_address: ip.address,
        netmask: ip.version === 4 ? mask4(prefix) : String(prefix),
        routes,
        network_id: nic.networkId,
        services: dns,
      });
    }
  }
  return { links, networks, services: [...services.values()] };
}

/** Files under /openstack/<version>/ for that version. */
export function openstackFiles(version: string, hasUserData: boolean): string[] {
  const v = version === 'latest' ? '9999' : version;
  const files = ['meta_data.json'];
  if (hasUserData) files.push('user_data');
  if (v >= '2013-04-04') files.push('password');
  if (v >= '2013-10-17') files.push('vendor_data.json');
  if (v >= '2015-10-15') files.push('network_data.json');
  if (v >= '2016-10-06') files.push('vendor_data2.json');
  return files;
}
