import assert from 'node:assert/strict';
import { test } from 'node:test';
import { choosePool, hasCapacity, type PoolState } from './scheduler.js';

const pool = (name: string, free: number, extra: Record<string, unknown> = {}): PoolState => ({
  name,
  availabilityZone: 'nova',
  capabilities: { total_capacity_gb: 100, free_capacity_gb: free, provisioned_capacity_gb: 100 - free, reserved_percentage: 0, thin_provisioning_support: false, volume_backend_name: name.split('@')[1]!.split('#')[0], vendor_name: 'Open Source', storage_protocol: 'iSCSI', ...extra },
});

test('picks the pool with the most free capacity that fits', () => {
  const pools = [pool('h@a#a', 10), pool('h@b#b', 40), pool('h@c#c', 5)];
  assert.equal(choosePool(pools, { sizeGb: 1, extraSpecs: {}, availabilityZone: null })?.name, 'h@b#b');
  assert.equal(choosePool(pools, { sizeGb: 50, extraSpecs: {}, availabilityZone: null }), undefined);
});

test('volume type extra specs select the backend', () => {
  const pools = [pool('h@a#a', 10), pool('h@b#b', 40)];
  assert.equal(choosePool(pools, { sizeGb: 1, extraSpecs: { volume_backend_name: 'a' }, availabilityZone: null })?.name, 'h@a#a');
  assert.equal(choosePool(pools, { sizeGb: 1, extraSpecs: { vendor_name: 'nobody' }, availabilityZone: null }), undefined);
});

test('claims since the last report count against free space', () => {
  const pools = [pool('h@a#a', 10), pool('h@b#b', 12)];
  assert.equal(choosePool(pools, { sizeGb: 3, extraSpecs: {}, availabilityZone: null }, new Map([['h@b#b', 5]]))?.name, 'h@a#a');
});

test('thin pools are limited by the over-subscription ratio', () => {
  const caps = { total_capacity_gb: 10, free_capacity_gb: 9, provisioned_capacity_gb: 15, thin_provisioning_support: true, max_over_subscription_ratio: 2 };
  assert.equal(hasCapacity(caps, 5), true);
  assert.equal(hasCapacity(caps, 6), false);
});

test('availability zone must match', () => {
  const pools = [pool('h@a#a', 10)];
  assert.equal(choosePool(pools, { sizeGb: 1, extraSpecs: {}, availabilityZone: 'other' }), undefined);
});
