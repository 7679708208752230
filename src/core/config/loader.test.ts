import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configSchema } from '../../runtime/config-schema.js';
import { ConfigError, loadConfig } from './loader.js';

test('defaults < file < env < overrides', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
  const file = join(dir, 'nimbus.yaml');
  writeFileSync(file, 'region: RegionTwo\nidentity:\n  port: 5001\n  tokenExpirationSeconds: 600\n');
  const c = loadConfig(configSchema, {
    file,
    env: { NIMBUS_IDENTITY__PORT: '5002', NIMBUS_BIND_HOST: '0.0.0.0', NIMBUS_ADMIN_PASSWORD: 'not-config' },
    overrides: { dataDir: '/x' },
  });
  assert.equal(c.region, 'RegionTwo');
  assert.equal(c.identity.port, 5002);
  assert.equal(c.identity.tokenExpirationSeconds, 600);
  assert.equal(c.bindHost, '0.0.0.0');
  assert.equal(c.dataDir, '/x');
  assert.equal(c.identity.passwordHash.scryptN, 32768, 'nested defaults are filled');
});

test('unknown keys and bad values are refused', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
  const file = join(dir, 'nimbus.yaml');
  writeFileSync(file, 'identity:\n  prot: 5001\n');
  assert.throws(() => loadConfig(configSchema, { file, env: {} }), ConfigError);
  assert.throws(() => loadConfig(configSchema, { env: { NIMBUS_IDENTITY__PORT: 'abc' } }), /expected a number/);
  assert.throws(() => loadConfig(configSchema, { env: { NIMBUS_IDENTITY__PORT: '70000' } }), ConfigError);
  assert.throws(() => loadConfig(configSchema, { file: join(dir, 'missing.yaml'), requireFile: true, env: {} }), /not found/);
});
