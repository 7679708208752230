import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseExpiration, parseIsoTime } from './iso-time.js';

test('parseIsoTime keeps microseconds and normalises zones to UTC', () => {
  assert.equal(parseIsoTime('2030-01-02T03:04:05.123456')?.text, '2030-01-02T03:04:05.123456Z');
  assert.equal(parseIsoTime('2030-01-02T03:04:05Z')?.text, '2030-01-02T03:04:05.000000Z');
  assert.equal(parseIsoTime('2030-01-02T03:04:05+01:00')?.text, '2030-01-02T02:04:05.000000Z');
  assert.equal(parseIsoTime('bad.123Z'), undefined);
  assert.equal(parseIsoTime('2030-02-30T00:00:00Z'), undefined);
});

test('parseExpiration rejects past and malformed times with 400', () => {
  assert.throws(() => parseExpiration('2000-01-01T00:00:00Z'), (e: { status: number }) => e.status === 400);
  assert.throws(() => parseExpiration('bad.123Z'), (e: { status: number }) => e.status === 400);
  assert.throws(() => parseExpiration(5), (e: { status: number }) => e.status === 400);
  assert.equal(parseExpiration(null), null);
});
