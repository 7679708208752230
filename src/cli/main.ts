#!/usr/bin/env node
import { Command } from 'commander';
import { stringify as toYaml } from 'yaml';
import { ConfigError } from '../core/config/loader.js';
import { openDatabase } from '../core/db/database.js';
import { createLog } from '../core/log.js';
import { ensureKeyRepository, rotateKeys } from '../identity/service/fernet-keys.js';
import { loadNimbusConfig, type ConfigFlags } from '../runtime/load-config.js';
import { allModules } from '../runtime/modules.js';
import { migrateAll, startNimbus } from '../runtime/start.js';
import { join } from 'node:path';
import { buildTestImage } from '../agents/compute/test-image/build-test-image.js';
import { runCommand } from '../core/exec.js';
import { formatChecks, runHostChecks } from '../agents/doctor/host-checks.js';

const program = new Command();
program
  .name('nimbus')
  .description('An OpenStack-compatible cloud in one process')
  .option('-c, --config <file>', 'config file (default: $NIMBUS_CONFIG or <data-dir>/nimbus.yaml)')
  .option('-d, --data-dir <dir>', 'state directory (default: $NIMBUS_DATA_DIR or ~/.nimbus)');

const flags = (): ConfigFlags => program.opts<ConfigFlags>();

program
  .command('up')
  .description('run every service of the cloud in this process')
  .action(async () => {
    const config = loadNimbusConfig(flags());
    const log = createLog({ level: config.log.level });
    const nimbus = await startNimbus(config, log, { adminPassword: process.env['NIMBUS_ADMIN_PASSWORD'] || undefined });
    const endpoints = Object.entries(nimbus.ports).map(([name, port]) => `${name} :${port}`).join(', ');
    process.stderr.write(`nimbus is up: ${endpoints}; credentials in ${config.dataDir}/openrc\n`);
    let stopping = false;
    const stop = async (signal: string) => {
      if (stopping) return;
      stopping = true;
      log.info({ signal }, 'shutting down');
      const force = setTimeout(() => process.exit(1), 30_000);
      force.unref();
      await nimbus.close();
      log.info('stopped');
      process.exit(0);
    };
    process.on('SIGINT', () => void stop('SIGINT'));
    process.on('SIGTERM', () => void stop('SIGTERM'));
  });

program
  .command('config')
  .description('print the effective configuration (defaults, file, environment)')
  .option('--json', 'print JSON instead of YAML')
  .action((opts: { json?: boolean }) => {
    const config = loadNimbusConfig(flags());
    const shown = structuredClone(config);
    if (shown.auth.servicePassword) shown.auth.servicePassword = '***';
    shown.database.url = shown.database.url.replace(/\/\/([^:/@]+):([^@]+)@/, '//$1:***@');
    process.stdout.write(opts.json ? `${JSON.stringify(shown, null, 2)}\n` : toYaml(shown));
  });

const db = program.command('db').description('database maintenance');
db.command('sync')
  .description('apply pending migrations of every enabled service')
  .action(async () => {
    const config = loadNimbusConfig(flags());
    const database = await openDatabase(config.database.url, { poolSize: config.database.poolSize });
    try {
      const applied = await migrateAll(database, allModules, config);
      for (const [service, names] of Object.entries(applied)) {
        process.stdout.write(`${service}: ${names.length ? names.join(', ') : 'up to date'}\n`);
      }
    } finally {
      await database.close();
    }
  });

const image = program.command('image').description('guest images');
image
  .command('build-test')
  .description('build the small CirrOS-like test image from Debian packages (cached under the data dir)')
  .option('--force', 'rebuild even when the cached image is current')
  .option('--json', 'print the manifest as JSON')
  .action(async (opts: { force?: boolean; json?: boolean }) => {
    const config = loadNimbusConfig(flags());
    const built = await buildTestImage({
      dataDir: config.dataDir,
      run: runCommand,
      force: Boolean(opts.force),
      progress: (m) => process.stderr.write(`${m}\n`),
    });
    process.stdout.write(opts.json ? `${JSON.stringify({ path: built.path, cached: built.cached, ...built.manifest }, null, 2)}\n` : `${built.path}\n`);
  });

program
  .command('doctor')
  .description('check what this host can do for real VMs and networking (QEMU, KVM, dnsmasq, iptables, bridges, namespaces)')
  .option('--json', 'print the results as JSON')
  .option('--no-kvm-probe', 'do not boot a probe guest to verify KVM')
  .action(async (opts: { json?: boolean; kvmProbe?: boolean }) => {
    const config = loadNimbusConfig(flags());
    const results = await runHostChecks({ run: runCommand, dataDir: config.dataDir, skipKvmProbe: opts.kvmProbe === false });
    process.stdout.write(opts.json ? `${JSON.stringify(results, null, 2)}\n` : formatChecks(results));
  });

const fernet = program.command('fernet').description('fernet token keys');
fernet
  .command('rotate')
  .description('promote the staged key, stage a new one, drop the oldest (a running nimbus reloads them)')
  .action(() => {
    const config = loadNimbusConfig(flags());
    const dir = config.identity.fernetKeyRepository || join(config.dataDir, 'fernet-keys');
    ensureKeyRepository(dir);
    const { primary, removed } = rotateKeys(dir, config.identity.fernetMaxActiveKeys);
    process.stdout.write(`primary key is now ${primary}${removed.length ? `; removed ${removed.join(', ')}` : ''}\n`);
  });

program.parseAsync(process.argv).catch((err: unknown) => {
  if (err instanceof ConfigError) process.stderr.write(`nimbus: ${err.message}\n`);
  else process.stderr.write(`nimbus: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
