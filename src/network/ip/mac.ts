import { randomBytes } from 'node:crypto';

/**
 * MAC addresses: generation under OpenStack's `fa:16:3e` prefix, the input
 * formats netaddr accepts, and the EUI-64 interface identifiers that SLAAC
 * and DHCPv6-stateless subnets derive addresses from.
 */

export function randomMac(prefix = 'fa:16:3e'): string {
  const fixed = prefix.split(':').filter((p) => p !== '');
  const rand = [...randomBytes(6 - fixed.length)].map((b) => b.toString(16).padStart(2, '0'));
  return [...fixed.map((p) => p.toLowerCase()), ...rand].join(':');
}

/** Lower-case colon form of a MAC in any common notation, or null when invalid. */
export function normalizeMac(text: string): string | null {
  if (typeof text !== 'string') return null;
  let hex: string;
  if (/^([0-9a-fA-F]{1,2}[:-]){5}[0-9a-fA-F]{1,2}$/.test(text)) {
    hex = text
      .split(/[:-]/)
      .map((p) => p.padStart(2, '0'))
      .join('');
  } else if (/^([0-9a-fA-F]{4}\.){2}[0-9a-fA-F]{4}$/.test(text)) {
    hex = text.replaceAll('.', '');
  } else if (/^[0-9a-fA-F]{12}$/.test(text)) {
    hex = text;
  } else return null;
  const out = hex.toLowerCase().match(/../g)!.join(':');
  // Neutron refuses the all-zero and multicast/broadcast addresses for ports.
  if (out === '00:00:00:00:00:00' || out === 'ff:ff:ff:ff:ff:ff') return null;
  if (parseInt(out.slice(0, 2), 16) & 1) return null;
  return out;
}

/** The EUI-64 interface identifier of a MAC: flip the U/L bit, insert ff:fe. */
export function eui64InterfaceId(mac: string): bigint {
  const b = mac.split(':').map((p) => parseInt(p, 16));
  const id = [b[0]! ^ 0x02, b[1]!, b[2]!, 0xff, 0xfe, b[3]!, b[4]!, b[5]!];
  return id.reduce((acc, x) => (acc << 8n) | BigInt(x), 0n);
}

/** The SLAAC address of a MAC in a /64 prefix. */
export function eui64Address(prefix64: bigint, mac: string): bigint {
  return (prefix64 & ~((1n << 64n) - 1n)) | eui64InterfaceId(mac);
}
