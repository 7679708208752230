import { Errors } from '../../core/errors.js';
import type { DomainConfigRepo } from '../db/domain-config-repo.js';

type Json = Record<string, unknown>;
export type DomainConfig = Record<string, Record<string, unknown>>;

/**
 * Options a domain may override, with Keystone's defaults (read from Keystone
 * 22's oslo.config options). Only these groups and options are accepted, as in
 * Keystone, so a new option is never exposed by accident.
 */
export const DOMAIN_CONFIG_DEFAULTS: DomainConfig = {
  identity: { driver: 'sql', list_limit: null },
  ldap: {
    url: 'ldap://localhost', user: null, suffix: 'cn=example,cn=com', query_scope: 'one', page_size: 0,
    alias_dereferencing: 'default', debug_level: null, chase_referrals: null, user_tree_dn: null, user_filter: null,
    user_objectclass: 'inetOrgPerson', user_id_attribute: 'cn', user_name_attribute: 'sn', user_mail_attribute: 'mail',
    user_description_attribute: 'description', user_pass_attribute: 'userPassword', user_enabled_attribute: 'enabled',
    user_enabled_invert: false, user_enabled_mask: 0, user_enabled_default: 'True', user_attribute_ignore: ['default_project_id'],
    user_default_project_id_attribute: null, user_enabled_emulation: false, user_enabled_emulation_dn: null,
    user_enabled_emulation_use_group_config: false, user_additional_attribute_mapping: [], group_tree_dn: null, group_filter: null,
    group_objectclass: 'groupOfNames', group_id_attribute: 'cn', group_name_attribute: 'ou', group_members_are_ids: false,
    group_member_attribute: 'member', group_desc_attribute: 'description', group_attribute_ignore: [],
    group_additional_attribute_mapping: [], tls_cacertfile: null, tls_cacertdir: null, use_tls: false, tls_req_cert: 'demand',
    use_pool: true, pool_size: 10, pool_retry_max: 3, pool_retry_delay: 0.1, pool_connection_timeout: -1,
    pool_connection_lifetime: 600, use_auth_pool: true, auth_pool_size: 100, auth_pool_connection_lifetime: 60,
  },
};
/** Stored but never shown. */
const SENSITIVE: Record<string, string[]> = { identity: [], ldap: ['password'] };

// Keystone's InvalidDomainConfig is a 403.
const invalid = (reason: string) => Errors.forbidden(`Invalid domain specific configuration: ${reason}.`);
const notFound = (what: string, domainId: string) => Errors.notFoundMessage(`Could not find ${what} in domain configuration for domain ${domainId}.`);

export function checkGroupOption(group?: string, option?: string): void {
  if (group === undefined) return;
  if (!(group in DOMAIN_CONFIG_DEFAULTS)) throw invalid(`Group ${group} is not supported for domain specific configurations`);
  if (option !== undefined && !(option in DOMAIN_CONFIG_DEFAULTS[group]!) && !SENSITIVE[group]!.includes(option)) {
    throw invalid(`Option ${option} in group ${group} is not supported for domain specific configurations`);
  }
}

function checkConfig(config: Json): void {
  if (Object.keys(config).length === 0) throw invalid('No options specified');
  for (const [group, options] of Object.entries(config)) {
    if (typeof options !== 'object' || options === null || Array.isArray(options) || Object.keys(options).length === 0) {
      throw invalid(`The value of group ${group} specified in the config should be a dictionary of options`);
    }
    for (const option of Object.keys(options)) checkGroupOption(group, option);
  }
}

/** Defaults for all groups, one group, or one option (GET …/config/default). */
export function defaults(group?: string, option?: string): Json {
  checkGroupOption(group, option);
  if (group === undefined) return DOMAIN_CONFIG_DEFAULTS;
  if (option === undefined) return { [group]: DOMAIN_CONFIG_DEFAULTS[group] };
  return { [option]: DOMAIN_CONFIG_DEFAULTS[group]![option] ?? null };
}

/** The domain-config manager (Keystone's DomainConfigManager semantics). */
export function createDomainConfigs(repo: DomainConfigRepo) {
  async function load(domainId: string, withSensitive: boolean): Promise<DomainConfig> {
    const out: DomainConfig = {};
    for (const row of await repo.list(domainId)) {
      if (row.sensitive === 1 && !withSensitive) continue;
      (out[row.group_name] ??= {})[row.option_name] = JSON.parse(row.value) as unknown;
    }
    return out;
  }

  async function write(domainId: string, config: Json): Promise<void> {
    for (const [group, options] of Object.entries(config)) {
      for (const [option, value] of Object.entries(options as Json)) {
        await repo.upsert({ domain_id: domainId, group_name: group, option_name: option, value: JSON.stringify(value ?? null), sensitive: SENSITIVE[group]!.includes(option) ? 1 : 0 });
      }
    }
  }

  /** PUT: replaces the whole config. Returns whether one existed before. */
  async function create(domainId: string, config: Json): Promise<{ config: DomainConfig; replaced: boolean }> {
    checkConfig(config);
    const replaced = (await repo.list(domainId)).length > 0;
    await repo.delete(domainId);
    await write(domainId, config);
    return { config: await load(domainId, false), replaced };
  }

  async function get(domainId: string, group?: string, option?: string): Promise<Json> {
    checkGroupOption(group, option);
    const all = await load(domainId, false);
    if (group === undefined) {
      if (Object.keys(all).length === 0) throw notFound('config', domainId);
      return all;
    }
    const g = all[group];
    if (!g) throw notFound(`group ${group}`, domainId);
    if (option === undefined) return { [group]: g };
    if (!(option in g)) throw notFound(`option ${option} in group ${group}`, domainId);
    return { [option]: g[option] };
  }

  async function update(domainId: string, body: Json, group?: string, option?: string): Promise<DomainConfig> {
    const config = group !== undefined && option !== undefined ? { [group]: body } : body;
    checkConfig(config);
    checkGroupOption(group, option);
    if (group !== undefined) {
      const opts = config[group] as Json | undefined;
      if (Object.keys(config).length !== 1 || (option !== undefined && Object.keys(opts ?? {}).length !== 1)) {
        throw invalid(option !== undefined
          ? `Trying to update option ${option} in group ${group}, so that, and only that, option must be specified  in the config`
          : `Trying to update group ${group}, so that, and only that, group must be specified in the config`);
      }
      if (!opts) throw invalid(`request to update group ${group}, but config provided contains group ${Object.keys(config)[0]} instead`);
      if (option !== undefined && !(option in opts)) {
        throw invalid(`Trying to update option ${option} in group ${group}, but config provided contains option ${Object.keys(opts)[0]} instead`);
      }
      const current = (await load(domainId, true))[group];
      if (!current) throw notFound(`group ${group}`, domainId);
      if (option !== undefined && !(option in current)) throw notFound(`option ${option} in group ${group}`, domainId);
    }
    await write(domainId, config);
    return load(domainId, false);
  }

  async function remove(domainId: string, group?: string, option?: string): Promise<void> {
    checkGroupOption(group, option);
    if (group !== undefined) {
      const current = (await load(domainId, true))[group];
      if (!current) throw notFound(`group ${group}`, domainId);
      if (option !== undefined && !(option in current)) throw notFound(`option ${option} in group ${group}`, domainId);
    }
    await repo.delete(domainId, group, option);
  }

  return { create, get, update, remove };
}
