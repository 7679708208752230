/**
 * Identity tables (prefix `ks_`). Booleans are 0/1 integers, JSON is text,
 * timestamps are ISO-8601 text, so the same SQL runs on SQLite, PostgreSQL
 * and MySQL.
 */

/** Domains are projects with is_domain = 1 whose domain_id is this sentinel (as in Keystone). */
export const ROOT_DOMAIN_ID = '<<keystone.domain.root>>';
/** Global roles have this domain_id, so (domain_id, name) can be unique on every dialect. */
export const GLOBAL_ROLE_DOMAIN = '<<null>>';

export interface ProjectRow {
  id: string;
  name: string;
  domain_id: string;
  parent_id: string | null;
  description: string;
  enabled: number;
  is_domain: number;
  extra: string;
  options: string;
  created_at: string;
}

export interface ProjectTagRow {
  project_id: string;
  name: string;
}

export interface UserRow {
  id: string;
  domain_id: string;
  name: string;
  enabled: number;
  default_project_id: string | null;
  description: string | null;
  extra: string;
  options: string;
  created_at: string;
  last_active_at: string | null;
  password_hash: string | null;
  password_created_at: string | null;
  password_expires_at: string | null;
  /** 1 when the user set the current password themselves (minimum password age applies). */
  password_self_service: number;
  failed_auth_count: number;
  failed_auth_at: string | null;
}

export interface PasswordHistoryRow {
  id: string;
  user_id: string;
  password_hash: string;
  created_at: string;
}

export interface GroupRow {
  id: string;
  domain_id: string;
  name: string;
  description: string;
  extra: string;
}

export interface UserGroupRow {
  user_id: string;
  group_id: string;
}

export interface RoleRow {
  id: string;
  name: string;
  domain_id: string;
  description: string | null;
  options: string;
  extra: string;
}

export interface ImpliedRoleRow {
  prior_role_id: string;
  implied_role_id: string;
}

export type AssignmentType = 'UserProject' | 'GroupProject' | 'UserDomain' | 'GroupDomain' | 'UserSystem' | 'GroupSystem';

export interface AssignmentRow {
  type: AssignmentType;
  actor_id: string;
  target_id: string;
  role_id: string;
  inherited: number;
}

export interface RegionRow {
  id: string;
  description: string;
  parent_region_id: string | null;
  extra: string;
}

export interface ServiceRow {
  id: string;
  type: string;
  name: string;
  description: string;
  enabled: number;
  extra: string;
}

export interface EndpointRow {
  id: string;
  service_id: string;
  interface: string;
  url: string;
  region_id: string | null;
  enabled: number;
  extra: string;
}

export interface RevocationEventRow {
  id: string;
  domain_id: string | null;
  project_id: string | null;
  user_id: string | null;
  role_id: string | null;
  trust_id: string | null;
  consumer_id: string | null;
  access_token_id: string | null;
  issued_before: string;
  expires_at: string | null;
  revoked_at: string;
  audit_id: string | null;
  audit_chain_id: string | null;
}

export interface AppCredentialRow {
  id: string;
  name: string;
  description: string | null;
  user_id: string;
  project_id: string | null;
  system: string | null;
  secret_hash: string;
  expires_at: string | null;
  unrestricted: number;
  roles: string;
  created_at: string;
}

export interface AccessRuleRow {
  id: string;
  external_id: string;
  user_id: string;
  service: string;
  path: string;
  method: string;
}

export interface AppCredentialAccessRuleRow {
  app_credential_id: string;
  access_rule_id: string;
}

export interface CredentialRow {
  id: string;
  user_id: string;
  project_id: string | null;
  type: string;
  blob: string;
  /** For ec2 credentials: the access key, so lookups by access key are indexed. */
  key_hash: string | null;
  extra: string;
}

export interface TrustRow {
  id: string;
  trustor_user_id: string;
  trustee_user_id: string;
  project_id: string | null;
  impersonation: number;
  expires_at: string | null;
  remaining_uses: number | null;
  redelegated_trust_id: string | null;
  redelegation_count: number | null;
  deleted_at: string | null;
  extra: string;
}

export interface TrustRoleRow {
  trust_id: string;
  role_id: string;
}

export interface RegisteredLimitRow {
  id: string;
  service_id: string;
  region_id: string | null;
  resource_name: string;
  default_limit: number;
  description: string | null;
}

export interface LimitRow {
  id: string;
  project_id: string | null;
  domain_id: string | null;
  service_id: string;
  region_id: string | null;
  resource_name: string;
  resource_limit: number;
  description: string | null;
}

export interface PolicyRow {
  id: string;
  type: string;
  blob: string;
  extra: string;
}

export interface DomainConfigRow {
  domain_id: string;
  group_name: string;
  option_name: string;
  value: string;
  sensitive: number;
}

export interface EndpointGroupRow {
  id: string;
  name: string;
  description: string | null;
  filters: string;
}

export interface ProjectEndpointGroupRow {
  endpoint_group_id: string;
  project_id: string;
}

export interface ProjectEndpointRow {
  endpoint_id: string;
  project_id: string;
}

export interface ConsumerRow {
  id: string;
  description: string | null;
  secret: string;
  extra: string;
}

export interface IdentityTables {
  ks_project: ProjectRow;
  ks_project_tag: ProjectTagRow;
  ks_user: UserRow;
  ks_password_history: PasswordHistoryRow;
  ks_group: GroupRow;
  ks_user_group: UserGroupRow;
  ks_role: RoleRow;
  ks_implied_role: ImpliedRoleRow;
  ks_assignment: AssignmentRow;
  ks_region: RegionRow;
  ks_service: ServiceRow;
  ks_endpoint: EndpointRow;
  ks_revocation_event: RevocationEventRow;
  ks_app_credential: AppCredentialRow;
  ks_access_rule: AccessRuleRow;
  ks_app_credential_access_rule: AppCredentialAccessRuleRow;
  ks_credential: CredentialRow;
  ks_trust: TrustRow;
  ks_trust_role: TrustRoleRow;
  ks_registered_limit: RegisteredLimitRow;
  ks_limit: LimitRow;
  ks_policy: PolicyRow;
  ks_domain_config: DomainConfigRow;
  ks_endpoint_group: EndpointGroupRow;
  ks_project_endpoint_group: ProjectEndpointGroupRow;
  ks_project_endpoint: ProjectEndpointRow;
  ks_consumer: ConsumerRow;
}
