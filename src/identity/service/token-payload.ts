/**
 * What a Nimbus token carries (encrypted inside Fernet). Everything else —
 * names, roles, catalog — is looked up at validation time, as Keystone does,
 * so a token always reflects current assignments and revocations.
 *
 * Binary layout: version(1) scope(1) methods(1) flags(1) issuedAtMs(f64)
 * expiresAtMs(f64) auditId(16) [parentAuditId(16)] userId [scopeId] [trustId]
 * [appCredId], where ids are written as 0x01+16 bytes when they are 32-hex
 * (Keystone-style UUIDs) and 0x02+len+utf8 otherwise.
 */
export type TokenScope = 'unscoped' | 'project' | 'domain' | 'system';

export interface TokenPayload {
  userId: string;
  methods: string[];
  scope: TokenScope;
  /** project id or domain id for project/domain scope. */
  scopeId?: string;
  issuedAtMs: number;
  expiresAtMs: number;
  /** base64url of 16 random bytes (Keystone audit ids are 22 chars). */
  auditId: string;
  /** Audit id of the token this one was rescoped from (`audit_ids[1]`). */
  parentAuditId?: string;
  trustId?: string;
  appCredId?: string;
}

const PAYLOAD_VERSION = 1;
const SCOPES: TokenScope[] = ['unscoped', 'project', 'domain', 'system'];
const METHODS = ['password', 'token', 'application_credential', 'totp', 'external', 'mapped', 'oauth1', 'saml2', 'openid'];

const FLAG_PARENT_AUDIT = 1;
const FLAG_TRUST = 2;
const FLAG_APP_CRED = 4;

export function encodePayload(p: TokenPayload): Buffer {
  const parts: Buffer[] = [];
  let methodBits = 0;
  for (const m of p.methods) {
    const i = METHODS.indexOf(m);
    if (i >= 0) methodBits |= 1 << i;
  }
  const flags = (p.parentAuditId ? FLAG_PARENT_AUDIT : 0) | (p.trustId ? FLAG_TRUST : 0) | (p.appCredId ? FLAG_APP_CRED : 0);
  const head = Buffer.alloc(4 + 16);
  head[0] = PAYLOAD_VERSION;
  head[1] = SCOPES.indexOf(p.scope);
  head.writeUInt16BE(methodBits, 2); // methods take bytes 2-3; flags follow in a byte of their own
  head.writeDoubleBE(p.issuedAtMs, 4);
  head.writeDoubleBE(p.expiresAtMs, 12);
  parts.push(head, Buffer.from([flags]), audit(p.auditId));
  if (p.parentAuditId) parts.push(audit(p.parentAuditId));
  parts.push(encodeId(p.userId));
  if (p.scope === 'project' || p.scope === 'domain') parts.push(encodeId(p.scopeId ?? ''));
  if (p.trustId) parts.push(encodeId(p.trustId));
  if (p.appCredId) parts.push(encodeId(p.appCredId));
  return Buffer.concat(parts);
}

export function decodePayload(buf: Buffer): TokenPayload | undefined {
  try {
    if (buf[0] !== PAYLOAD_VERSION) return undefined;
    const scope = SCOPES[buf[1]!];
    if (!scope) return undefined;
    const methodBits = buf.readUInt16BE(2);
    const methods = METHODS.filter((_, i) => methodBits & (1 << i));
    const issuedAtMs = buf.readDoubleBE(4);
    const expiresAtMs = buf.readDoubleBE(12);
    const flags = buf[20]!;
    let off = 21;
    const auditId = buf.subarray(off, off + 16).toString('base64url');
    off += 16;
    let parentAuditId: string | undefined;
    if (flags & FLAG_PARENT_AUDIT) {
      parentAuditId = buf.subarray(off, off + 16).toString('base64url');
      off += 16;
    }
    const readId = (): string => {
      const [id, next] = decodeId(buf, off);
      off = next;
      return id;
    };
    const userId = readId();
    const payload: TokenPayload = { userId, methods, scope, issuedAtMs, expiresAtMs, auditId };
    if (parentAuditId) payload.parentAuditId = parentAuditId;
    if (scope === 'project' || scope === 'domain') payload.scopeId = readId();
    if (flags & FLAG_TRUST) payload.trustId = readId();
    if (flags & FLAG_APP_CRED) payload.appCredId = readId();
    if (off !== buf.length) return undefined;
    return payload;
  } catch {
    return undefined;
  }
}

function audit(id: string): Buffer {
  const b = Buffer.from(id, 'base64url');
  if (b.length !== 16) throw new Error('audit ids are 16 bytes');
  return b;
}

function encodeId(id: string): Buffer {
  if (/^[0-9a-f]{32}$/.test(id)) return Buffer.concat([Buffer.from([1]), Buffer.from(id, 'hex')]);
  const bytes = Buffer.from(id, 'utf8');
  if (bytes.length > 255) throw new Error('id too long for a token');
  return Buffer.concat([Buffer.from([2, bytes.length]), bytes]);
}

function decodeId(buf: Buffer, off: number): [string, number] {
  const kind = buf[off];
  if (kind === 1) {
    if (off + 17 > buf.length) throw new Error('short');
    return [buf.subarray(off + 1, off + 17).toString('hex'), off + 17];
  }
  if (kind === 2) {
    const len = buf[off + 1]!;
    if (off + 2 + len > buf.length) throw new Error('short');
    return [buf.subarray(off + 2, off + 2 + len).toString('utf8'), off + 2 + len];
  }
  throw new Error('bad id');
}
