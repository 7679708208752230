import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startNimbusProcess } from './support/nimbus-process.js';
import { haveTempest, runTempest } from './support/tempest.js';

/**
 * Tempest's whole identity v3 stage (stage1) with every optional identity
 * feature on, security compliance included, so that Keystone compatibility
 * (docs/compat.md: 138 of 138) cannot regress unnoticed. Nimbus runs with the
 * security-compliance values Tempest assumes (lockout after 2 failures for
 * 5 s, the last 2 passwords unique).
 */
test('tempest identity stage1 with trusts, app credentials, access rules and security compliance', { skip: haveTempest ? false : 'tempest or ../shared/tools/tempest not installed', timeout: 30 * 60_000 }, async () => {
  const nimbus = await startNimbusProcess({
    services: ['identity'],
    env: {
      NIMBUS_IDENTITY__SECURITY_COMPLIANCE__LOCKOUT_FAILURE_ATTEMPTS: '2',
      NIMBUS_IDENTITY__SECURITY_COMPLIANCE__LOCKOUT_DURATION_SECONDS: '5',
      NIMBUS_IDENTITY__SECURITY_COMPLIANCE__UNIQUE_LAST_PASSWORD_COUNT: '2',
    },
  });
  try {
    const extra = join(nimbus.dataDir, 'tempest-extra.conf');
    writeFileSync(extra, '[identity-feature-enabled]\nsecurity_compliance = true\n');
    const r = await runTempest(['--results', `${nimbus.dataDir}/tempest`, 'stage1'], {
      AUTH_URL: nimbus.authUrl,
      ADMIN_PASSWORD: nimbus.adminPassword,
      IDENTITY_TRUST: 'true',
      IDENTITY_APPLICATION_CREDENTIALS: 'true',
      IDENTITY_ACCESS_RULES: 'true',
      TEMPEST_EXTRA_CONF: extra,
    });
    assert.ok(r.passed >= 0, `no tempest summary (exit ${r.code}):\n${r.out.slice(-3000)}`);
    process.stdout.write(`${r.last}\n`);
    assert.equal(r.failed, 0, `tempest identity failures:\n${r.out.slice(-4000)}`);
    assert.ok(r.passed >= 130, r.last);
  } finally {
    await nimbus.stop();
    rmSync(nimbus.dataDir, { recursive: true, force: true });
  }
});
