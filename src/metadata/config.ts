import { Type } from '@sinclair/typebox';
import { Port, section } from '../core/config/types.js';

/** The metadata API (Nova's metadata service), reached by guests only through the metadata proxy. */
export const metadataSection = section({
  enabled: Type.Boolean({ default: true }),
  port: Port(8775, 'metadata API port (the proxy forwards to it; guests never reach it directly)'),
  sharedSecret: Type.String({ default: '', description: 'secret shared with the metadata proxy to sign instance ids (default: generated into <dataDir>/metadata-secret)' }),
  dhcpDomain: Type.String({ default: 'novalocal', description: "domain appended to host names in metadata (Nova's dhcp_domain); empty for none" }),
});
