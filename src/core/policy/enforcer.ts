import { existsSync, readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { Errors } from '../errors.js';
import type { AuthContext } from '../auth/context.js';
import { compileRule, type CheckContext, type CompiledRule, type Creds, type Target } from './rule-parser.js';

export interface PolicyRule {
  name: string;
  /** oslo.policy check string. */
  check: string;
  description?: string;
  /** Token scopes this rule is meant for; informational unless enforceScope is on. */
  scopeTypes?: Array<'system' | 'domain' | 'project'>;
}

export interface EnforcerOptions {
  defaults: PolicyRule[];
  /** Rule overrides, as read from policy.yaml (name → check string). */
  overrides?: Record<string, string>;
  /** Reject tokens whose scope is not in a rule's scopeTypes (oslo.policy enforce_scope). */
  enforceScope?: boolean;
}

/**
 * Evaluates named policy rules against a request's credentials and target,
 * like oslo.policy's Enforcer. Rules compile once; unknown rule names deny.
 */
export class Enforcer {
  private readonly compiled = new Map<string, CompiledRule>();
  private readonly scopes = new Map<string, PolicyRule['scopeTypes']>();
  private readonly enforceScope: boolean;

  constructor(options: EnforcerOptions) {
    this.enforceScope = options.enforceScope ?? false;
    for (const rule of options.defaults) {
      this.compiled.set(rule.name, compileRule(rule.check));
      if (rule.scopeTypes) this.scopes.set(rule.name, rule.scopeTypes);
    }
    for (const [name, check] of Object.entries(options.overrides ?? {})) this.compiled.set(name, compileRule(check));
  }

  has(name: string): boolean {
    return this.compiled.has(name);
  }

  enforce(name: string, creds: Creds, target: Target = {}): boolean {
    const rule = this.compiled.get(name);
    if (!rule) return false;
    if (this.enforceScope && !this.scopeAllowed(name, creds)) return false;
    const ctx: CheckContext = {
      creds,
      target,
      rule: (n, c) => {
        const r = this.compiled.get(n);
        return r ? r(c) : false;
      },
    };
    return rule(ctx);
  }

  /** Throws a 403 when the rule denies. */
  authorize(name: string, creds: Creds, target: Target = {}): void {
    if (!this.enforce(name, creds, target)) {
      throw Errors.forbidden(`You are not authorized to perform the requested action: ${name}.`);
    }
  }

  private scopeAllowed(name: string, creds: Creds): boolean {
    const types = this.scopes.get(name);
    if (!types) return true;
    const scope = creds['system_scope'] ? 'system' : creds['project_id'] ? 'project' : creds['domain_id'] ? 'domain' : undefined;
    return scope !== undefined && types.includes(scope);
  }
}

/** Reads a policy.yaml/json file of `rule: check` overrides; a missing file means no overrides. */
export function readPolicyFile(path: string | undefined): Record<string, string> {
  if (!path || !existsSync(path)) return {};
  const parsed = parseYaml(readFileSync(path, 'utf8')) as unknown;
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error(`${path}: expected a mapping of rule names to check strings`);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(parsed as Record<string, unknown>)) {
    if (typeof v !== 'string') throw new Error(`${path}: rule ${k} must be a string`);
    out[k] = v;
  }
  return out;
}

/** The credentials dictionary oslo.policy sees for a token (keystonemiddleware's view). */
export function credsFromAuth(auth: AuthContext): Creds {
  return {
    user_id: auth.userId,
    user_domain_id: auth.userDomainId,
    project_id: auth.projectId ?? null,
    project_domain_id: auth.projectDomainId ?? null,
    domain_id: auth.domainId ?? null,
    system_scope: auth.system ? 'all' : null,
    roles: auth.roles,
    is_admin_project: auth.isAdminProject,
    'token.is_admin_project': auth.isAdminProject,
    'token.project.domain.id': auth.projectDomainId ?? null,
    'token.domain.id': auth.domainId ?? null,
    'token.user.domain.id': auth.userDomainId,
    trust_id: auth.trustId ?? null,
    service_roles: auth.serviceRoles ?? [],
  };
}
