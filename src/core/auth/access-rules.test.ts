import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkAccessRules, pathMatches } from './access-rules.js';

test('path templates: * and {x} match one segment, ** any number', () => {
  assert.ok(pathMatches('/v2.1/servers/abc/ips', '/v2.1/servers/*/ips'));
  assert.ok(pathMatches('/v2.1/servers/abc/ips', '/v2.1/servers/{server_id}/ips'));
  assert.ok(!pathMatches('/v2.1/servers/a/b/ips', '/v2.1/servers/*/ips'));
  assert.ok(pathMatches('/v2.1/servers/a/b/ips', '/v2.1/servers/**'));
  assert.ok(!pathMatches('/v2.1/serversXabc', '/v2.1/servers*'.replace('*', '/*')));
  assert.ok(pathMatches('/v2.1/servers.json', '/v2.1/servers.json'));
  assert.ok(!pathMatches('/v2.1/serversXjson', '/v2.1/servers.json'), 'dots are literal');
});

test('access rules: method, service type and path must match one rule', () => {
  const rules = [{ service: 'compute', method: 'GET', path: '/v2.1/servers' }];
  assert.doesNotThrow(() => checkAccessRules(undefined, { method: 'DELETE', path: '/x' }), 'no rules, no limits');
  assert.doesNotThrow(() => checkAccessRules(rules, { serviceType: 'compute', method: 'GET', path: '/v2.1/servers' }));
  for (const req of [
    { serviceType: 'compute', method: 'POST', path: '/v2.1/servers' },
    { serviceType: 'image', method: 'GET', path: '/v2.1/servers' },
    { serviceType: 'compute', method: 'GET', path: '/v2.1/flavors' },
    { method: 'GET', path: '/v2.1/servers' },
  ]) {
    assert.throws(() => checkAccessRules(rules, req), (e: { status: number }) => e.status === 401, JSON.stringify(req));
  }
  assert.doesNotThrow(() => checkAccessRules(rules, { serviceType: 'identity', method: 'GET', path: '/v3/auth/tokens' }), 'a token may always be validated');
  assert.doesNotThrow(() => checkAccessRules(rules, { serviceType: 'compute', method: 'POST', path: '/x', hasServiceToken: true }), 'service chains pass');
});
