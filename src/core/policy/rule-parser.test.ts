import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Enforcer } from './enforcer.js';

const enforcer = new Enforcer({
  defaults: [
    { name: 'admin_required', check: 'role:admin or is_admin:1' },
    { name: 'owner', check: 'user_id:%(user_id)s' },
    { name: 'admin_or_owner', check: 'rule:admin_required or rule:owner' },
    { name: 'reader_in_domain', check: '(role:reader and domain_id:%(target.domain_id)s and not None:%(target.domain_id)s)' },
    { name: 'system_reader', check: 'role:reader and system_scope:all' },
    { name: 'anyone', check: '' },
    { name: 'nobody', check: '!' },
  ],
  overrides: { nobody: '@' },
});

test('role checks and rule references', () => {
  assert.equal(enforcer.enforce('admin_or_owner', { roles: ['admin'], user_id: 'u1' }, { user_id: 'u2' }), true);
  assert.equal(enforcer.enforce('admin_or_owner', { roles: ['member'], user_id: 'u1' }, { user_id: 'u1' }), true);
  assert.equal(enforcer.enforce('admin_or_owner', { roles: ['member'], user_id: 'u1' }, { user_id: 'u2' }), false);
});

test('target references use dotted keys and refuse None', () => {
  const creds = { roles: ['reader'], domain_id: 'd1' };
  assert.equal(enforcer.enforce('reader_in_domain', creds, { 'target.domain_id': 'd1' }), true);
  assert.equal(enforcer.enforce('reader_in_domain', creds, { target: { domain_id: 'd1' } }), true);
  assert.equal(enforcer.enforce('reader_in_domain', creds, { 'target.domain_id': 'd2' }), false);
  assert.equal(enforcer.enforce('reader_in_domain', { roles: ['reader'], domain_id: null }, { 'target.domain_id': null }), false);
});

test('literal matches, empty rule, overrides, unknown rules deny', () => {
  assert.equal(enforcer.enforce('system_reader', { roles: ['reader'], system_scope: 'all' }), true);
  assert.equal(enforcer.enforce('system_reader', { roles: ['reader'], system_scope: null }), false);
  assert.equal(enforcer.enforce('anyone', {}), true);
  assert.equal(enforcer.enforce('nobody', {}), true);
  assert.equal(enforcer.enforce('no-such-rule', { roles: ['admin'] }), false);
  assert.throws(() => enforcer.authorize('no-such-rule', {}), /not authorized/);
});

test('syntax errors are reported', () => {
  assert.throws(() => new Enforcer({ defaults: [{ name: 'x', check: 'role:a and (role:b' }] }), /missing '\)'/);
  assert.throws(() => new Enforcer({ defaults: [{ name: 'x', check: 'role:a or' }] }), /unexpected end/);
});
