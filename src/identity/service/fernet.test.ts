import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureKeyRepository, loadKeys, rotateKeys } from './fernet-keys.js';
import { fernetDecrypt, fernetEncrypt } from './fernet.js';
import { decodePayload, encodePayload, type TokenPayload } from './token-payload.js';

const payload: TokenPayload = {
  userId: '0123456789abcdef0123456789abcdef',
  methods: ['password', 'token'],
  scope: 'project',
  scopeId: 'not-a-hex-id',
  issuedAtMs: 1_795_000_000_123,
  expiresAtMs: 1_795_003_600_123,
  auditId: 'AAAAAAAAAAAAAAAAAAAAAA',
  parentAuditId: 'BBBBBBBBBBBBBBBBBBBBBA',
  trustId: 'fedcba9876543210fedcba9876543210',
};

test('payload round-trips through the binary encoding', () => {
  assert.deepEqual(decodePayload(encodePayload(payload)), payload);
  const unscoped: TokenPayload = { userId: 'admin', methods: ['password'], scope: 'unscoped', issuedAtMs: 1, expiresAtMs: 2, auditId: 'CCCCCCCCCCCCCCCCCCCCCA' };
  assert.deepEqual(decodePayload(encodePayload(unscoped)), unscoped);
});

test('tampered or truncated payloads are refused', () => {
  const buf = encodePayload(payload);
  assert.equal(decodePayload(buf.subarray(0, buf.length - 3)), undefined);
  assert.equal(decodePayload(Buffer.concat([buf, Buffer.from([1])])), undefined);
});

test('a token survives rotation until its key is dropped', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fernet-'));
  ensureKeyRepository(dir);
  assert.deepEqual(readdirSync(dir).sort(), ['0', '1']);
  const token = fernetEncrypt(loadKeys(dir)[0]!, Buffer.from('hello'));
  assert.ok(!token.includes('='), 'no base64 padding, like Keystone');
  rotateKeys(dir, 3);
  assert.equal(fernetDecrypt(loadKeys(dir), token)?.toString(), 'hello');
  rotateKeys(dir, 3);
  rotateKeys(dir, 3);
  assert.equal(fernetDecrypt(loadKeys(dir), token), undefined, 'key 1 was pruned');
  assert.deepEqual(readdirSync(dir).sort(), ['0', '3', '4']);
});

test('forged tokens are refused', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fernet-'));
  ensureKeyRepository(dir);
  const keys = loadKeys(dir);
  const token = fernetEncrypt(keys[0]!, Buffer.from('hello'));
  const flipped = token.slice(0, 40) + (token[40] === 'A' ? 'B' : 'A') + token.slice(41);
  assert.equal(fernetDecrypt(keys, flipped), undefined);
  assert.equal(fernetDecrypt(keys, 'garbage'), undefined);
  assert.equal(fernetDecrypt(keys, 'x'.repeat(5000)), undefined);
});
