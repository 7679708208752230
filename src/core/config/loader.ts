import { existsSync, readFileSync } from 'node:fs';
import type { Static, TObject, TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { parse as parseYaml } from 'yaml';

/**
 * Loads configuration through one typed schema: defaults from the schema,
 * then the YAML file, then environment variables, then explicit overrides.
 * Unknown keys anywhere are an error, so a typo never silently does nothing.
 *
 * Environment variables: `NIMBUS_<SECTION>__<KEY>` (double underscore between
 * levels, words in SNAKE_CASE), e.g. `NIMBUS_IDENTITY__PORT=5001` sets
 * `identity.port`; `NIMBUS_BIND_HOST` sets `bindHost`.
 */

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

export interface LoadConfigOptions {
  /** YAML file to read; missing file is fine unless `requireFile`. */
  file?: string | undefined;
  requireFile?: boolean;
  env?: NodeJS.ProcessEnv;
  envPrefix?: string;
  /** Applied last, as a partial object tree. */
  overrides?: Record<string, unknown>;
}

type Json = Record<string, unknown>;

export function loadConfig<S extends TObject>(schema: S, options: LoadConfigOptions = {}): Static<S> {
  const tree: Json = {};
  if (options.file) {
    if (existsSync(options.file)) {
      const parsed = parseYaml(readFileSync(options.file, 'utf8')) as unknown;
      if (parsed !== null && parsed !== undefined) {
        if (typeof parsed !== 'object' || Array.isArray(parsed)) {
          throw new ConfigError(`${options.file}: top level must be a mapping`);
        }
        deepMerge(tree, parsed as Json);
      }
    } else if (options.requireFile) {
      throw new ConfigError(`config file not found: ${options.file}`);
    }
  }
  deepMerge(tree, envTree(schema, options.env ?? process.env, options.envPrefix ?? 'NIMBUS_'));
  if (options.overrides) deepMerge(tree, options.overrides);
  return validateConfig(schema, tree);
}

export function validateConfig<S extends TObject>(schema: S, tree: unknown): Static<S> {
  const withDefaults = Value.Default(schema, structuredClone(tree)) as unknown;
  if (!Value.Check(schema, withDefaults)) {
    const problems = [...Value.Errors(schema, withDefaults)]
      .slice(0, 10)
      .map((e) => `${e.path || '/'}: ${e.message}`);
    throw new ConfigError(`invalid configuration:\n  ${problems.join('\n  ')}`);
  }
  return withDefaults as Static<S>;
}

function deepMerge(target: Json, source: Json): void {
  for (const [key, value] of Object.entries(source)) {
    const existing = target[key];
    if (isPlainObject(value) && isPlainObject(existing)) deepMerge(existing, value);
    else target[key] = value;
  }
}

function isPlainObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function camel(word: string): string {
  return word.toLowerCase().replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** Builds a partial tree from NIMBUS_* variables, converting values by the schema's types. */
function envTree(schema: TObject, env: NodeJS.ProcessEnv, prefix: string): Json {
  const out: Json = {};
  for (const [name, raw] of Object.entries(env)) {
    if (!name.startsWith(prefix) || raw === undefined) continue;
    const path = name.slice(prefix.length).split('__').map(camel);
    const leaf = schemaAt(schema, path);
    // Variables that do not name a config key (NIMBUS_ADMIN_PASSWORD, ...) are for other uses.
    if (!leaf) continue;
    let node = out;
    for (const segment of path.slice(0, -1)) {
      node[segment] ??= {};
      node = node[segment] as Json;
    }
    node[path[path.length - 1]!] = convertEnvValue(leaf, raw, name);
  }
  return out;
}

function schemaAt(schema: TSchema, path: string[]): TSchema | undefined {
  let node: TSchema | undefined = schema;
  for (const segment of path) {
    const props: Record<string, TSchema> | undefined = (node as { properties?: Record<string, TSchema> } | undefined)?.properties;
    node = props?.[segment];
    if (!node) return undefined;
  }
  return node;
}

function convertEnvValue(schema: TSchema, raw: string, name: string): unknown {
  const type = (schema as { type?: string }).type;
  if (type === 'integer' || type === 'number') {
    const n = Number(raw);
    if (raw.trim() === '' || Number.isNaN(n)) throw new ConfigError(`${name}: expected a number, got "${raw}"`);
    return n;
  }
  if (type === 'boolean') {
    if (/^(1|true|yes|on)$/i.test(raw)) return true;
    if (/^(0|false|no|off)$/i.test(raw)) return false;
    throw new ConfigError(`${name}: expected a boolean, got "${raw}"`);
  }
  if (type === 'array' || type === 'object') {
    try {
      return JSON.parse(raw) as unknown;
    } catch {
      if (type === 'array') return raw.split(',').map((s) => s.trim()).filter(Boolean);
      throw new ConfigError(`${name}: expected JSON`);
    }
  }
  return raw;
}
