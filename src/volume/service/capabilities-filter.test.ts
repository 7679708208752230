import assert from 'node:assert/strict';
import { test } from 'node:test';
import { matchValue, poolMatchesSpecs } from './capabilities-filter.js';

const caps = { vendor_name: 'Open Source', storage_protocol: 'iSCSI', volume_backend_name: 'file', multiattach: true, free_capacity_gb: 50 };

test('plain specs must equal the capability; unknown capabilities reject the pool', () => {
  assert.equal(poolMatchesSpecs(caps, { vendor_name: 'Open Source', storage_protocol: 'iSCSI' }), true);
  assert.equal(poolMatchesSpecs(caps, { storage_protocol: 'iscsi' }), true);
  assert.equal(poolMatchesSpecs(caps, { vendor_name: 'random-vendor' }), false);
  assert.equal(poolMatchesSpecs(caps, { no_such_capability: 'x' }), false);
});

test('scoped specs other than capabilities: are ignored', () => {
  assert.equal(poolMatchesSpecs(caps, { 'RESKEY:availability_zones': 'az9', 'qos:read_iops': '5', 'capabilities:volume_backend_name': 'file' }), true);
  assert.equal(poolMatchesSpecs(caps, { 'capabilities:volume_backend_name': 'lvm' }), false);
});

test('operators', () => {
  assert.equal(matchValue(true, '<is> True'), true);
  assert.equal(matchValue(false, '<is> True'), false);
  assert.equal(matchValue(50, '>= 10'), true);
  assert.equal(matchValue(5, '>= 10'), false);
  assert.equal(matchValue('file', '<or> lvm <or> file'), true);
  assert.equal(matchValue('Open Source', '<in> Open'), true);
  assert.equal(matchValue('abc', 's== abc'), true);
});
