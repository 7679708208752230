import type { PolicyRule } from '../../core/policy/enforcer.js';

/**
 * Keystone's default policies (the Zed defaults: project-scoped `admin` is
 * cloud admin, readers see their own domain/project, users manage their own
 * credentials). Overridable with policy.yaml.
 */
const ADMIN = 'rule:admin_required';
const SYSTEM_READER = 'role:reader and system_scope:all';
const ADMIN_OR_SYSTEM_READER = `${ADMIN} or (${SYSTEM_READER})`;
const ADMIN_OR_OWNER = 'rule:admin_or_owner';

const rules: Array<[string, string]> = [
  ['admin_required', 'role:admin or is_admin:1'],
  ['service_role', 'role:service'],
  ['service_or_admin', 'rule:admin_required or rule:service_role'],
  ['owner', 'user_id:%(user_id)s'],
  ['admin_or_owner', 'rule:admin_required or rule:owner'],
  ['token_subject', 'user_id:%(target.token.user_id)s'],
  ['admin_or_token_subject', 'rule:admin_required or rule:token_subject'],
  ['service_admin_or_token_subject', 'rule:service_or_admin or rule:token_subject'],

  // tokens
  ['identity:check_token', `${ADMIN} or (${SYSTEM_READER}) or rule:token_subject`],
  ['identity:validate_token', `${ADMIN} or (${SYSTEM_READER}) or rule:service_role or rule:token_subject`],
  ['identity:revoke_token', `${ADMIN} or rule:token_subject`],
  ['identity:get_auth_catalog', ''],
  ['identity:get_auth_projects', ''],
  ['identity:get_auth_domains', ''],
  ['identity:get_auth_system', ''],

  // domains
  [
    'identity:get_domain',
    `${ADMIN} or (role:reader and system_scope:all) or token.domain.id:%(target.domain.id)s or token.project.domain.id:%(target.domain.id)s`,
  ],
  ['identity:list_domains', ADMIN_OR_SYSTEM_READER],
  ['identity:create_domain', ADMIN],
  ['identity:update_domain', ADMIN],
  ['identity:delete_domain', ADMIN],

  // projects
  [
    'identity:get_project',
    `${ADMIN} or (${SYSTEM_READER}) or (role:reader and domain_id:%(target.project.domain_id)s) or project_id:%(target.project.id)s`,
  ],
  ['identity:list_projects', `${ADMIN} or (${SYSTEM_READER}) or (role:reader and domain_id:%(target.domain_id)s)`],
  [
    'identity:list_user_projects',
    `${ADMIN} or (${SYSTEM_READER}) or (role:reader and domain_id:%(target.user.domain_id)s) or user_id:%(target.user.id)s`,
  ],
  ['identity:create_project', ADMIN],
  ['identity:update_project', ADMIN],
  ['identity:delete_project', ADMIN],
  [
    'identity:list_project_tags',
    `${ADMIN} or (${SYSTEM_READER}) or (role:reader and domain_id:%(target.project.domain_id)s) or project_id:%(target.project.id)s`,
  ],
  [
    'identity:get_project_tag',
    `${ADMIN} or (${SYSTEM_READER}) or (role:reader and domain_id:%(target.project.domain_id)s) or project_id:%(target.project.id)s`,
  ],
  ['identity:update_project_tags', ADMIN],
  ['identity:create_project_tag', ADMIN],
  ['identity:delete_project_tags', ADMIN],
  ['identity:delete_project_tag', ADMIN],

  // users
  [
    'identity:get_user',
    `${ADMIN} or (${SYSTEM_READER}) or (role:reader and token.domain.id:%(target.user.domain_id)s) or user_id:%(target.user.id)s`,
  ],
  ['identity:list_users', `${ADMIN} or (${SYSTEM_READER}) or (role:reader and domain_id:%(target.domain_id)s)`],
  ['identity:list_projects_for_user', ''],
  ['identity:list_domains_for_user', ''],
  ['identity:create_user', ADMIN],
  ['identity:update_user', ADMIN],
  ['identity:delete_user', ADMIN],

  // groups
  ['identity:get_group', `${ADMIN} or (${SYSTEM_READER}) or (role:reader and domain_id:%(target.group.domain_id)s)`],
  ['identity:list_groups', `${ADMIN} or (${SYSTEM_READER}) or (role:reader and domain_id:%(target.group.domain_id)s)`],
  [
    'identity:list_groups_for_user',
    `${ADMIN} or (role:reader and system_scope:all) or (role:reader and domain_id:%(target.user.domain_id)s) or user_id:%(user_id)s`,
  ],
  ['identity:create_group', ADMIN],
  ['identity:update_group', ADMIN],
  ['identity:delete_group', ADMIN],
  [
    'identity:list_users_in_group',
    `${ADMIN} or (${SYSTEM_READER}) or (role:reader and domain_id:%(target.group.domain_id)s)`,
  ],
  ['identity:remove_user_from_group', ADMIN],
  [
    'identity:check_user_in_group',
    `${ADMIN} or (role:reader and system_scope:all) or (role:reader and domain_id:%(target.group.domain_id)s and domain_id:%(target.user.domain_id)s)`,
  ],
  ['identity:add_user_to_group', ADMIN],

  // roles
  ['identity:get_role', ADMIN_OR_SYSTEM_READER],
  ['identity:list_roles', ADMIN_OR_SYSTEM_READER],
  ['identity:create_role', ADMIN],
  ['identity:update_role', ADMIN],
  ['identity:delete_role', ADMIN],
  ['identity:get_domain_role', ADMIN_OR_SYSTEM_READER],
  ['identity:list_domain_roles', ADMIN_OR_SYSTEM_READER],
  ['identity:create_domain_role', ADMIN],
  ['identity:update_domain_role', ADMIN],
  ['identity:delete_domain_role', ADMIN],
  ['identity:get_implied_role', ADMIN_OR_SYSTEM_READER],
  ['identity:list_implied_roles', ADMIN_OR_SYSTEM_READER],
  ['identity:create_implied_role', ADMIN],
  ['identity:delete_implied_role', ADMIN],
  ['identity:list_role_inference_rules', ADMIN_OR_SYSTEM_READER],
  ['identity:check_implied_role', ADMIN_OR_SYSTEM_READER],

  // grants and assignments
  ['identity:check_grant', ADMIN_OR_SYSTEM_READER],
  ['identity:list_grants', ADMIN_OR_SYSTEM_READER],
  ['identity:create_grant', ADMIN],
  ['identity:revoke_grant', ADMIN],
  ['identity:check_system_grant_for_user', ADMIN_OR_SYSTEM_READER],
  ['identity:list_system_grants_for_user', ADMIN_OR_SYSTEM_READER],
  ['identity:create_system_grant_for_user', ADMIN],
  ['identity:revoke_system_grant_for_user', ADMIN],
  ['identity:check_system_grant_for_group', ADMIN_OR_SYSTEM_READER],
  ['identity:list_system_grants_for_group', ADMIN_OR_SYSTEM_READER],
  ['identity:create_system_grant_for_group', ADMIN],
  ['identity:revoke_system_grant_for_group', ADMIN],
  [
    'identity:list_role_assignments',
    `${ADMIN} or (${SYSTEM_READER}) or (role:reader and domain_id:%(target.domain_id)s and not None:%(target.domain_id)s)`,
  ],
  [
    'identity:list_role_assignments_for_tree',
    `${ADMIN} or (${SYSTEM_READER}) or (role:reader and domain_id:%(target.project.domain_id)s) or (role:admin and project_id:%(target.project.id)s)`,
  ],

  // catalog
  ['identity:get_region', ''],
  ['identity:list_regions', ''],
  ['identity:create_region', ADMIN],
  ['identity:update_region', ADMIN],
  ['identity:delete_region', ADMIN],
  ['identity:get_service', ADMIN_OR_SYSTEM_READER],
  ['identity:list_services', ADMIN_OR_SYSTEM_READER],
  ['identity:create_service', ADMIN],
  ['identity:update_service', ADMIN],
  ['identity:delete_service', ADMIN],
  ['identity:get_endpoint', ADMIN_OR_SYSTEM_READER],
  ['identity:list_endpoints', ADMIN_OR_SYSTEM_READER],
  ['identity:create_endpoint', ADMIN],
  ['identity:update_endpoint', ADMIN],
  ['identity:delete_endpoint', ADMIN],

  // application credentials and access rules
  ['identity:get_application_credential', `(${ADMIN}) or (${SYSTEM_READER}) or rule:owner`],
  ['identity:list_application_credentials', `(${ADMIN}) or (${SYSTEM_READER}) or rule:owner`],
  ['identity:create_application_credential', 'rule:owner'],
  ['identity:delete_application_credential', ADMIN_OR_OWNER],
  ['identity:get_access_rule', `(${ADMIN}) or (${SYSTEM_READER}) or user_id:%(target.user.id)s`],
  ['identity:list_access_rules', `(${ADMIN}) or (${SYSTEM_READER}) or user_id:%(target.user.id)s`],
  ['identity:delete_access_rule', `(${ADMIN}) or user_id:%(target.user.id)s`],

  // credentials (the ownership check on projects is in credential-service.ts)
  ['identity:get_credential', `(${ADMIN}) or (${SYSTEM_READER}) or user_id:%(target.credential.user_id)s`],
  ['identity:list_credentials', `(${ADMIN}) or (${SYSTEM_READER}) or user_id:%(target.credential.user_id)s`],
  ['identity:create_credential', `(${ADMIN}) or user_id:%(target.credential.user_id)s`],
  ['identity:update_credential', `(${ADMIN}) or user_id:%(target.credential.user_id)s`],
  ['identity:delete_credential', `(${ADMIN}) or user_id:%(target.credential.user_id)s`],
  ['identity:ec2_get_credential', `(${ADMIN}) or (${SYSTEM_READER}) or user_id:%(target.credential.user_id)s`],
  ['identity:ec2_list_credentials', `(${ADMIN}) or (${SYSTEM_READER}) or rule:owner`],
  ['identity:ec2_create_credential', `(${ADMIN}) or user_id:%(target.credential.user_id)s`],
  ['identity:ec2_delete_credential', `(${ADMIN}) or user_id:%(target.credential.user_id)s`],

  // trusts
  ['identity:create_trust', 'user_id:%(target.trust.trustor_user_id)s'],
  ['identity:list_trusts', ADMIN_OR_SYSTEM_READER],
  ['identity:list_trusts_for_trustor', `(${ADMIN}) or (${SYSTEM_READER}) or user_id:%(target.trust.trustor_user_id)s`],
  ['identity:list_trusts_for_trustee', `(${ADMIN}) or (${SYSTEM_READER}) or user_id:%(target.trust.trustee_user_id)s`],
  ['identity:get_trust', `(${ADMIN}) or (${SYSTEM_READER}) or user_id:%(target.trust.trustor_user_id)s or user_id:%(target.trust.trustee_user_id)s`],
  ['identity:list_roles_for_trust', `(${ADMIN}) or (${SYSTEM_READER}) or user_id:%(target.trust.trustor_user_id)s or user_id:%(target.trust.trustee_user_id)s`],
  ['identity:get_role_for_trust', `(${ADMIN}) or (${SYSTEM_READER}) or user_id:%(target.trust.trustor_user_id)s or user_id:%(target.trust.trustee_user_id)s`],
  ['identity:delete_trust', `${ADMIN} or user_id:%(target.trust.trustor_user_id)s`],

  // unified limits
  ['identity:get_registered_limit', ''],
  ['identity:list_registered_limits', ''],
  ['identity:create_registered_limits', ADMIN],
  ['identity:update_registered_limit', ADMIN],
  ['identity:delete_registered_limit', ADMIN],
  ['identity:get_limit_model', ''],
  [
    'identity:get_limit',
    `${ADMIN} or (${SYSTEM_READER}) or (domain_id:%(target.limit.domain.id)s or domain_id:%(target.limit.project.domain_id)s) or (project_id:%(target.limit.project_id)s and not None:%(target.limit.project_id)s)`,
  ],
  ['identity:list_limits', ''],
  ['identity:create_limits', ADMIN],
  ['identity:update_limit', ADMIN],
  ['identity:delete_limit', ADMIN],

  // policies (stored documents)
  ['identity:get_policy', ADMIN_OR_SYSTEM_READER],
  ['identity:list_policies', ADMIN_OR_SYSTEM_READER],
  ['identity:create_policy', ADMIN],
  ['identity:update_policy', ADMIN],
  ['identity:delete_policy', ADMIN],

  // OS-EP-FILTER
  ['identity:create_endpoint_group', ADMIN],
  ['identity:list_endpoint_groups', ADMIN_OR_SYSTEM_READER],
  ['identity:get_endpoint_group', ADMIN_OR_SYSTEM_READER],
  ['identity:update_endpoint_group', ADMIN],
  ['identity:delete_endpoint_group', ADMIN],
  ['identity:list_projects_associated_with_endpoint_group', ADMIN_OR_SYSTEM_READER],
  ['identity:list_endpoints_associated_with_endpoint_group', ADMIN_OR_SYSTEM_READER],
  ['identity:get_endpoint_group_in_project', ADMIN_OR_SYSTEM_READER],
  ['identity:list_endpoint_groups_for_project', ADMIN_OR_SYSTEM_READER],
  ['identity:add_endpoint_group_to_project', ADMIN],
  ['identity:remove_endpoint_group_from_project', ADMIN],
  ['identity:list_projects_for_endpoint', ADMIN_OR_SYSTEM_READER],
  ['identity:add_endpoint_to_project', ADMIN],
  ['identity:check_endpoint_in_project', ADMIN_OR_SYSTEM_READER],
  ['identity:list_endpoints_for_project', ADMIN_OR_SYSTEM_READER],
  ['identity:remove_endpoint_from_project', ADMIN],

  // OS-OAUTH1 consumers
  ['identity:get_consumer', ADMIN_OR_SYSTEM_READER],
  ['identity:list_consumers', ADMIN_OR_SYSTEM_READER],
  ['identity:create_consumer', ADMIN],
  ['identity:update_consumer', ADMIN],
  ['identity:delete_consumer', ADMIN],

  // domain configuration
  ['identity:create_domain_config', ADMIN],
  ['identity:get_domain_config', ADMIN_OR_SYSTEM_READER],
  ['identity:get_security_compliance_domain_config', ''],
  ['identity:update_domain_config', ADMIN],
  ['identity:delete_domain_config', ADMIN],
  ['identity:get_domain_config_default', ADMIN_OR_SYSTEM_READER],
];

export const identityPolicyDefaults: PolicyRule[] = rules.map(([name, check]) => ({ name, check }));
export { ADMIN_OR_OWNER };
