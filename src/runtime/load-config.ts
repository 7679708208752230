import { loadConfig } from '../core/config/loader.js';
import { configSchema, type NimbusConfig } from './config-schema.js';
import { resolveConfigFile, resolveDataDir } from './paths.js';

export interface ConfigFlags {
  config?: string | undefined;
  dataDir?: string | undefined;
}

/** Effective configuration: schema defaults < config file < NIMBUS_* env < flags, with derived defaults filled in. */
export function loadNimbusConfig(flags: ConfigFlags = {}, env: NodeJS.ProcessEnv = process.env): NimbusConfig {
  const dataDir = resolveDataDir(flags.dataDir, env);
  const file = resolveConfigFile(flags.config, dataDir, env);
  const config = loadConfig(configSchema, { file: file.path, requireFile: file.required, env, overrides: { dataDir } });
  return withDerivedDefaults(config);
}

export function withDerivedDefaults(config: NimbusConfig): NimbusConfig {
  const out = structuredClone(config);
  if (!out.database.url) out.database.url = `sqlite:${out.dataDir}/nimbus.db`;
  if (!out.publicHost) out.publicHost = out.bindHost === '0.0.0.0' || out.bindHost === '::' ? '127.0.0.1' : out.bindHost;
  return out;
}
