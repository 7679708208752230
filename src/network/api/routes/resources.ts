import type { FastifyInstance } from 'fastify';
import { agentSpec, floatingipSpec, networkSpec, portSpec, rbacSpec, routerSpec, securityGroupRuleSpec, securityGroupSpec, subnetSpec, subnetpoolSpec } from '../../db/specs.js';
import * as agents from '../../service/agents.js';
import * as fips from '../../service/floating-ips.js';
import * as networks from '../../service/networks.js';
import * as ports from '../../service/ports.js';
import * as rbac from '../../service/rbac.js';
import * as routers from '../../service/routers.js';
import * as sgs from '../../service/security-groups.js';
import type { RuleRequest } from '../../service/security-groups.js';
import * as subnetpools from '../../service/subnetpools.js';
import * as subnets from '../../service/subnets.js';
import type { NetworkApi } from '../context.js';
import { crudRoutes } from '../crud.js';
import {
  agentAttrs,
  floatingipAttrs,
  networkAttrs,
  portAttrs,
  rbacAttrs,
  routerAttrs,
  securityGroupAttrs,
  securityGroupRuleAttrs,
  subnetAttrs,
  subnetpoolAttrs,
} from '../resource-attrs.js';

/** The standard collections of /v2.0. */
export function resourceRoutes(app: FastifyInstance, api: NetworkApi): void {
  const { deps } = api;

  crudRoutes(app, api, {
    collection: 'networks',
    singular: 'network',
    attrs: networkAttrs,
    spec: (c) => networkSpec(c.projectId),
    list: (c, q) => networks.listNetworks(deps, c, q),
    show: (c, id) => networks.showNetwork(deps, c, id),
    create: (c, items) => networks.createNetworks(deps, c, items),
    update: (c, id, a, m) => networks.updateNetwork(deps, c, id, a, m),
    delete: (c, id, m) => networks.deleteNetwork(deps, c, id, m),
    redact: (c, v) => networks.redactNetwork(deps, c, v),
  });

  crudRoutes(app, api, {
    collection: 'subnets',
    singular: 'subnet',
    attrs: subnetAttrs,
    spec: () => subnetSpec,
    list: (c, q) => subnets.listSubnets(deps, c, q),
    show: (c, id) => subnets.showSubnet(deps, c, id),
    create: (c, items) => subnets.createSubnets(deps, c, items),
    update: (c, id, a, m) => subnets.updateSubnet(deps, c, id, a, m),
    delete: (c, id, m) => subnets.deleteSubnet(deps, c, id, m),
  });

  crudRoutes(app, api, {
    collection: 'subnetpools',
    singular: 'subnetpool',
    attrs: subnetpoolAttrs,
    spec: () => subnetpoolSpec(),
    list: (c, q) => subnetpools.listPools(deps, c, q),
    show: (c, id) => subnetpools.showPool(deps, c, id),
    create: (c, items) => subnetpools.createPools(deps, c, items),
    update: (c, id, a, m) => subnetpools.updatePool(deps, c, id, a, m),
    delete: (c, id, m) => subnetpools.deletePool(deps, c, id, m),
  });

  crudRoutes(app, api, {
    collection: 'ports',
    singular: 'port',
    attrs: portAttrs,
    spec: () => portSpec,
    list: (c, q) => ports.listPorts(deps, c, q),
    show: (c, id) => ports.showPort(deps, c, id),
    create: (c, items) => ports.createPorts(deps, c, items),
    update: (c, id, a, m) => ports.updatePort(deps, c, id, a, m),
    delete: (c, id, m) => ports.deletePort(deps, c, id, m),
    redact: (c, v) => ports.redactPort(deps, c, v),
  });

  crudRoutes(app, api, {
    collection: 'routers',
    singular: 'router',
    attrs: routerAttrs,
    spec: () => routerSpec,
    list: (c, q) => routers.listRouters(deps, c, q),
    show: (c, id) => routers.showRouter(deps, c, id),
    create: (c, items) => routers.createRouters(deps, c, items),
    update: (c, id, a, m) => routers.updateRouter(deps, c, id, a, m),
    delete: (c, id, m) => routers.deleteRouter(deps, c, id, m),
  });

  crudRoutes(app, api, {
    collection: 'floatingips',
    singular: 'floatingip',
    attrs: floatingipAttrs,
    spec: () => floatingipSpec,
    list: (c, q) => fips.listFips(deps, c, q),
    show: (c, id) => fips.showFip(deps, c, id),
    create: (c, items) => fips.createFips(deps, c, items),
    update: (c, id, a, m) => fips.updateFip(deps, c, id, a, m),
    delete: (c, id, m) => fips.deleteFip(deps, c, id, m),
  });

  crudRoutes(app, api, {
    collection: 'security-groups',
    singular: 'security_group',
    attrs: securityGroupAttrs,
    spec: (c) => securityGroupSpec(c.projectId),
    list: (c, q) => sgs.listGroups(deps, c, q),
    show: (c, id) => sgs.showGroup(deps, c, id),
    create: (c, items) => sgs.createGroups(deps, c, items),
    update: (c, id, a, m) => sgs.updateGroup(deps, c, id, a, m),
    delete: (c, id, m) => sgs.deleteGroup(deps, c, id, m),
  });

  crudRoutes(app, api, {
    collection: 'security-group-rules',
    singular: 'security_group_rule',
    attrs: securityGroupRuleAttrs,
    spec: () => securityGroupRuleSpec,
    list: (c, q) => sgs.listRules(deps, c, q),
    show: (c, id) => sgs.showRule(deps, c, id),
    create: (c, items) =>
      sgs.createRules(
        deps,
        c,
        items.map(
          (i): RuleRequest => ({
            security_group_id: i['security_group_id'] as string,
            direction: i['direction'] as string,
            ethertype: (i['ethertype'] as string | undefined) ?? 'IPv4',
            protocol: (i['protocol'] as string | null | undefined) ?? null,
            port_range_min: (i['port_range_min'] as number | null | undefined) ?? null,
            port_range_max: (i['port_range_max'] as number | null | undefined) ?? null,
            remote_ip_prefix: (i['remote_ip_prefix'] as string | null | undefined) ?? null,
            remote_group_id: (i['remote_group_id'] as string | null | undefined) ?? null,
            remote_address_group_id: null,
            description: (i['description'] as string | undefined) ?? '',
            project_id: (i['project_id'] ?? i['tenant_id']) as string | undefined,
          }),
        ),
      ),
    delete: (c, id) => sgs.deleteRule(deps, c, id),
  });

  crudRoutes(app, api, {
    collection: 'rbac-policies',
    singular: 'rbac_policy',
    attrs: rbacAttrs,
    spec: () => rbacSpec,
    list: (c, q) => rbac.listPolicies(deps, c, q),
    show: (c, id) => rbac.showPolicy(deps, c, id),
    create: (c, items) => rbac.createPolicies(deps, c, items),
    update: (c, id, a) => rbac.updatePolicy(deps, c, id, a),
    delete: (c, id) => rbac.deletePolicy(deps, c, id),
  });

  crudRoutes(app, api, {
    collection: 'agents',
    singular: 'agent',
    attrs: agentAttrs,
    spec: () => agentSpec,
    list: (c, q) => agents.listAgents(deps, c, q),
    show: (c, id) => agents.showAgent(deps, c, id),
    update: (c, id, a) => agents.updateAgent(deps, c, id, a),
    delete: (c, id) => agents.deleteAgent(deps, c, id),
  });
}
