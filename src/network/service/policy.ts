import type { AuthContext } from '../../core/auth/context.js';
import { Errors } from '../../core/errors.js';
import { credsFromAuth, Enforcer, readPolicyFile, type PolicyRule } from '../../core/policy/enforcer.js';
import type { Creds, Target } from '../../core/policy/rule-parser.js';
import { policyNotAuthorized } from './faults.js';

/**
 * Neutron's legacy default policies (what Tempest and the clients assume):
 * project-scoped `admin` is cloud admin, everything else is owner-based.
 * Visibility (which rows a caller may see) is applied in SQL by the
 * repositories; these rules decide actions and admin-only attributes, and a
 * policy.yaml may override any of them.
 */
const ADMIN = 'rule:context_is_admin';
const ADMIN_OR_OWNER = 'rule:admin_or_owner';
const ADMIN_OR_NET_OWNER = 'rule:admin_or_network_owner';

const rules: Array<[string, string]> = [
  ['context_is_admin', 'role:admin'],
  ['owner', 'tenant_id:%(tenant_id)s'],
  ['admin_or_owner', 'rule:context_is_admin or rule:owner'],
  ['admin_only', ADMIN],
  ['network_owner', 'tenant_id:%(network:tenant_id)s'],
  ['admin_or_network_owner', 'rule:context_is_admin or rule:network_owner'],
  ['admin_owner_or_network_owner', 'rule:owner or rule:admin_or_network_owner'],

  ['create_network', ''],
  ['create_network:shared', ADMIN],
  ['create_network:router:external', ADMIN],
  ['create_network:provider', ADMIN],
  ['create_network:is_default', ADMIN],
  ['get_network:provider', ADMIN],
  ['update_network', ADMIN_OR_OWNER],
  ['update_network:shared', ADMIN],
  ['update_network:router:external', ADMIN],
  ['update_network:provider', ADMIN],
  ['delete_network', ADMIN_OR_OWNER],

  ['create_subnet', ADMIN_OR_NET_OWNER],
  ['create_subnet:service_types', ADMIN],
  ['update_subnet', ADMIN_OR_NET_OWNER],
  ['update_subnet:service_types', ADMIN],
  ['delete_subnet', ADMIN_OR_NET_OWNER],

  ['create_subnetpool', ''],
  ['create_subnetpool:shared', ADMIN],
  ['create_subnetpool:is_default', ADMIN],
  ['update_subnetpool', ADMIN_OR_OWNER],
  ['update_subnetpool:is_default', ADMIN],
  ['delete_subnetpool', ADMIN_OR_OWNER],

  ['create_port', ''],
  ['create_port:device_owner', ADMIN_OR_NET_OWNER],
  ['create_port:mac_address', ADMIN_OR_NET_OWNER],
  ['create_port:fixed_ips:ip_address', ADMIN_OR_NET_OWNER],
  ['create_port:port_security_enabled', ADMIN_OR_NET_OWNER],
  ['create_port:binding:host_id', ADMIN],
  ['create_port:binding:profile', ADMIN],
  ['create_port:allowed_address_pairs', ADMIN_OR_NET_OWNER],
  ['get_port:binding', ADMIN],
  ['update_port', 'rule:admin_owner_or_network_owner'],
  ['update_port:device_owner', ADMIN_OR_NET_OWNER],
  ['update_port:mac_address', ADMIN],
  ['update_port:fixed_ips:ip_address', ADMIN_OR_NET_OWNER],
  ['update_port:port_security_enabled', ADMIN_OR_NET_OWNER],
  ['update_port:binding:host_id', ADMIN],
  ['update_port:binding:profile', ADMIN],
  ['update_port:allowed_address_pairs', ADMIN_OR_NET_OWNER],
  ['delete_port', 'rule:admin_owner_or_network_owner'],

  ['create_router', ''],
  ['create_router:external_gateway_info:enable_snat', ADMIN],
  ['create_router:external_gateway_info:external_fixed_ips', ADMIN],
  ['create_router:distributed', ADMIN],
  ['create_router:ha', ADMIN],
  ['get_router:distributed', ADMIN],
  ['get_router:ha', ADMIN],
  ['update_router', ADMIN_OR_OWNER],
  ['update_router:external_gateway_info:enable_snat', ADMIN],
  ['update_router:external_gateway_info:external_fixed_ips', ADMIN],
  ['update_router:distributed', ADMIN],
  ['update_router:ha', ADMIN],
  ['delete_router', ADMIN_OR_OWNER],
  ['add_router_interface', ADMIN_OR_OWNER],
  ['remove_router_interface', ADMIN_OR_OWNER],

  ['create_floatingip', ''],
  ['create_floatingip:floating_ip_address', ADMIN],
  ['update_floatingip', ADMIN_OR_OWNER],
  ['delete_floatingip', ADMIN_OR_OWNER],
  ['create_floatingip_port_forwarding', ADMIN_OR_OWNER],
  ['update_floatingip_port_forwarding', ADMIN_OR_OWNER],
  ['delete_floatingip_port_forwarding', ADMIN_OR_OWNER],

  ['create_security_group', ''],
  ['update_security_group', ADMIN_OR_OWNER],
  ['delete_security_group', ADMIN_OR_OWNER],
  ['create_security_group_rule', ADMIN_OR_OWNER],
  ['delete_security_group_rule', ADMIN_OR_OWNER],

  ['create_rbac_policy', ''],
  ['create_rbac_policy:target_tenant', ADMIN],
  ['update_rbac_policy', ADMIN_OR_OWNER],
  ['update_rbac_policy:target_tenant', ADMIN],
  ['delete_rbac_policy', ADMIN_OR_OWNER],

  ['get_quota', ADMIN_OR_OWNER],
  ['update_quota', ADMIN],
  ['delete_quota', ADMIN],

  ['get_agent', ADMIN],
  ['update_agent', ADMIN],
  ['delete_agent', ADMIN],
  ['get_network_ip_availability', ADMIN],
];

export const networkPolicyDefaults: PolicyRule[] = rules.map(([name, check]) => ({ name, check }));

export function createNetworkEnforcer(policyFile: string | undefined): Enforcer {
  return new Enforcer({ defaults: networkPolicyDefaults, overrides: readPolicyFile(policyFile) });
}

/** Who is calling, as the networking service sees it. */
export interface Caller {
  projectId: string;
  userId: string;
  isAdmin: boolean;
  creds: Creds;
  /** The caller's token, for calls on their behalf. */
  token: string;
}

export function callerFrom(auth: AuthContext, enforcer: Enforcer): Caller {
  const creds = credsFromAuth(auth);
  // Neutron's policies say tenant_id; keystonemiddleware sets both.
  creds['tenant_id'] = auth.projectId ?? null;
  const isAdmin = enforcer.enforce('context_is_admin', creds);
  if (!auth.projectId && !isAdmin) throw Errors.forbidden('The networking API needs a project-scoped token.');
  return { projectId: auth.projectId ?? '', userId: auth.userId, isAdmin, creds, token: auth.token };
}

/** Authorizes a rule against a target (`tenant_id`, `network:tenant_id`, …); 403 PolicyNotAuthorized otherwise. */
export function authorize(enforcer: Enforcer, caller: Caller, rule: string, target: Target = {}): void {
  if (!enforcer.enforce(rule, caller.creds, target)) throw policyNotAuthorized(rule);
}

export function allowed(enforcer: Enforcer, caller: Caller, rule: string, target: Target = {}): boolean {
  return enforcer.enforce(rule, caller.creds, target);
}
