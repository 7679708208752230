import { isoMicro, newHexId, randomUrlSafe } from '../../core/ids.js';
import { GLOBAL_ROLE_DOMAIN, ROOT_DOMAIN_ID, type RoleRow } from '../db/tables.js';
import type { Identity } from './identity.js';

export interface CatalogService {
  type: string;
  name: string;
  description: string;
  /** URL per interface; usually the same for public, internal and admin in an all-in-one. */
  urls: { public: string; internal: string; admin: string };
}

export interface BootstrapOptions {
  /** Admin password to set; when absent an existing admin keeps theirs, a new one gets a generated password. */
  adminPassword?: string;
  region: string;
  services: CatalogService[];
  /** The user other services authenticate as (in project `service`, roles admin + service). */
  serviceUser: { name: string; password: string };
}

export interface BootstrapResult {
  adminUserId: string;
  adminProjectId: string;
  /** Set when a password was generated for a new admin user: show it once. */
  generatedAdminPassword?: string;
  created: string[];
  /**
   * Settles when the passwords of users that already existed have been checked
   * (and reset if they differ). That runs in the background, behind logins, so
   * a restart is not slowed by password hashing.
   */
  passwordsChecked: Promise<void>;
}

export const DEFAULT_DOMAIN_ID = 'default';

/**
 * What `keystone-manage bootstrap` plus an install guide make: the Default
 * domain, admin and service projects, admin ⊃ member ⊃ reader roles and
 * `service`, the admin user, RegionOne and an endpoint per interface for
 * every running service. Safe to run on every start: it only fills in what
 * is missing and corrects our own endpoints' URLs.
 */
export async function bootstrapIdentity(identity: Identity, options: BootstrapOptions): Promise<BootstrapResult> {
  const { repos, hasher } = identity;
  const created: string[] = [];
  const now = isoMicro(new Date());

  if (!(await repos.projects.get(DEFAULT_DOMAIN_ID))) {
    await repos.projects.insert({
      id: DEFAULT_DOMAIN_ID,
      name: 'Default',
      domain_id: ROOT_DOMAIN_ID,
      parent_id: null,
      description: 'The default domain',
      enabled: 1,
      is_domain: 1,
      extra: '{}',
      options: '{}',
      created_at: now,
    });
    created.push('domain Default');
  }

  const ensureProject = async (name: string, description: string) => {
    const existing = await repos.projects.getByName(DEFAULT_DOMAIN_ID, name);
    if (existing) return existing.id;
    const id = newHexId();
    await repos.projects.insert({
      id,
      name,
      domain_id: DEFAULT_DOMAIN_ID,
      parent_id: DEFAULT_DOMAIN_ID,
      description,
      enabled: 1,
      is_domain: 0,
      extra: '{}',
      options: '{}',
      created_at: now,
    });
    created.push(`project ${name}`);
    return id;
  };
  const adminProjectId = await ensureProject('admin', 'Bootstrap project for initializing the cloud.');
  const serviceProjectId = await ensureProject('service', 'Service Project');

  const ensureRole = async (name: string): Promise<RoleRow> => {
    const existing = await repos.roles.getByName(name);
    if (existing) return existing;
    const row: RoleRow = { id: newHexId(), name, domain_id: GLOBAL_ROLE_DOMAIN, description: null, options: '{}', extra: '{}' };
    await repos.roles.insert(row);
    created.push(`role ${name}`);
    return row;
  };
  const reader = await ensureRole('reader');
  const member = await ensureRole('member');
  const admin = await ensureRole('admin');
  const service = await ensureRole('service');
  for (const [prior, implied] of [
    [admin, member],
    [member, reader],
  ] as const) {
    if (!(await repos.roles.getImplication(prior.id, implied.id))) await repos.roles.addImplication(prior.id, implied.id);
  }

  const checks: Array<Promise<void>> = [];
  const ensureUser = async (name: string, password: string | undefined, userOptions: Record<string, boolean> = {}): Promise<{ id: string; generated?: string }> => {
    const existing = await repos.users.getByName(DEFAULT_DOMAIN_ID, name);
    if (existing) {
      if (password !== undefined) {
        checks.push(
          (async () => {
            if (existing.password_hash && (await hasher.verify(password, existing.password_hash, { background: true }))) return;
            await repos.users.update(existing.id, { password_hash: await hasher.hash(password), password_created_at: now, enabled: 1 });
            await identity.revocations.revoke({ userId: existing.id });
            identity.changed();
            identity.deps.log.info({ user: name }, 'bootstrap reset the password');
          })(),
        );
      }
      return { id: existing.id };
    }
    const generated = password === undefined ? randomUrlSafe(18) : undefined;
    const id = newHexId();
    await repos.users.insert({
      id,
      domain_id: DEFAULT_DOMAIN_ID,
      name,
      enabled: 1,
      default_project_id: null,
      description: null,
      extra: '{}',
      options: JSON.stringify(userOptions),
      created_at: now,
      last_active_at: null,
      password_hash: await hasher.hash(password ?? generated!),
      password_created_at: now,
      password_expires_at: null,
      password_self_service: 0,
      failed_auth_count: 0,
      failed_auth_at: null,
    });
    created.push(`user ${name}`);
    return generated === undefined ? { id } : { id, generated };
  };
  // Both at once: each may hash or verify a password (the slow part of a start).
  const [adminUser, serviceUser] = await Promise.all([
    ensureUser('admin', options.adminPassword),
    // The services' own user must not be locked out by someone guessing its password, nor expire.
    ensureUser(options.serviceUser.name, options.serviceUser.password, {
      ignore_lockout_failure_attempts: true,
      ignore_password_expiry: true,
      ignore_change_password_upon_first_use: true,
    }),
  ]);

  const grant = async (userId: string, projectId: string, roleId: string) =>
    repos.assignments.add({ type: 'UserProject', actor_id: userId, target_id: projectId, role_id: roleId, inherited: 0 });
  await grant(adminUser.id, adminProjectId, admin.id);
  await repos.assignments.add({ type: 'UserSystem', actor_id: adminUser.id, target_id: 'system', role_id: admin.id, inherited: 0 });
  await grant(serviceUser.id, serviceProjectId, admin.id);
  await grant(serviceUser.id, serviceProjectId, service.id);

  if (!(await repos.catalog.getRegion(options.region))) {
    await repos.catalog.insertRegion({ id: options.region, description: '', parent_region_id: null, extra: '{}' });
    created.push(`region ${options.region}`);
  }

  for (const svc of options.services) {
    const existing = (await repos.catalog.listServices({ type: svc.type })).find((s) => s.name === svc.name);
    let serviceId = existing?.id;
    if (!serviceId) {
      serviceId = newHexId();
      await repos.catalog.insertService({ id: serviceId, type: svc.type, name: svc.name, description: svc.description, enabled: 1, extra: '{}' });
      created.push(`service ${svc.name}`);
    }
    const endpoints = await repos.catalog.listEndpoints({ serviceId, regionId: options.region });
    for (const iface of ['public', 'internal', 'admin'] as const) {
      const url = svc.urls[iface];
      const ep = endpoints.find((e) => e.interface === iface);
      if (!ep) {
        await repos.catalog.insertEndpoint({ id: newHexId(), service_id: serviceId, interface: iface, url, region_id: options.region, enabled: 1, extra: '{}' });
        created.push(`endpoint ${svc.type} ${iface}`);
      } else if (ep.url !== url) {
        await repos.catalog.updateEndpoint(ep.id, { url });
        created.push(`endpoint ${svc.type} ${iface} url`);
      }
    }
  }

  if (created.length > 0) identity.changed();
  const passwordsChecked = Promise.all(checks).then(
    () => undefined,
    (err: unknown) => identity.deps.log.error({ err }, 'bootstrap could not check the passwords'),
  );
  const result: BootstrapResult = { adminUserId: adminUser.id, adminProjectId, created, passwordsChecked };
  if (adminUser.generated !== undefined) result.generatedAdminPassword = adminUser.generated;
  return result;
}
