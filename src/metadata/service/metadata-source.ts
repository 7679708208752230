/**
 * What the metadata API needs to know about an instance. Compute provides
 * it (from its database, through an in-process call or its HTTP API); the
 * metadata service never reads another service's tables.
 */

export interface MetadataKey {
  name: string;
  type: 'ssh' | 'x509';
  data: string;
}

export interface MetadataNic {
  portId: string;
  mac: string;
  mtu?: number;
  networkId: string;
  /** One entry per fixed IP. */
  ips: {
    address: string;
    cidr: string;
    version: 4 | 6;
    gateway?: string | null;
    dnsNameservers?: string[];
    hostRoutes?: { destination: string; nexthop: string }[];
    dhcp: boolean;
  }[];
}

export interface MetadataInstance {
  uuid: string;
  name: string;
  /** DNS-safe host name (Nova's instance.hostname). */
  hostname: string;
  projectId: string;
  userId?: string;
  availabilityZone: string;
  launchIndex: number;
  reservationId: string;
  /** Integer id Nova uses for EC2 ids (i-%08x). */
  ec2Id: number;
  imageId?: string;
  flavorName: string;
  keys: MetadataKey[];
  /** Raw user data (already base64-decoded). */
  userData?: Buffer;
  /** Server metadata (key/value). */
  meta: Record<string, string>;
  nics: MetadataNic[];
  floatingIps: string[];
  securityGroups: string[];
  launchedAt?: string;
  vendorData?: Record<string, unknown>;
}

export interface MetadataSource {
  /** The instance, or undefined if it does not exist (or is deleted). */
  instance(uuid: string): Promise<MetadataInstance | undefined>;
}

/** A source backed by a map: for tests and for wiring before compute exists. */
export function staticMetadataSource(instances: MetadataInstance[]): MetadataSource & { set(i: MetadataInstance): void; delete(uuid: string): void } {
  const map = new Map(instances.map((i) => [i.uuid, i]));
  return {
    instance: async (uuid) => map.get(uuid),
    set: (i) => void map.set(i.uuid, i),
    delete: (uuid) => void map.delete(uuid),
  };
}
