import { ApiError, Errors } from '../../core/errors.js';

/**
 * Neutron's exceptions: the `type` clients and Tempest match on
 * (`NeutronError.type`) and the message text they look for.
 */
const make =
  (status: 400 | 403 | 404 | 409 | 412 | 503, type: string) =>
  (message: string): ApiError => {
    switch (status) {
      case 400:
        return Errors.badRequest(message, { code: type });
      case 403:
        return Errors.forbidden(message, { code: type });
      case 404:
        return Errors.notFoundMessage(message, { code: type });
      case 409:
        return Errors.conflict(message, { code: type });
      case 412:
        return Errors.preconditionFailed(message, { code: type });
      case 503:
        return Errors.serviceUnavailable(message, { code: type });
    }
  };

export const invalidInput = (reason: string) => make(400, 'InvalidInput')(`Invalid input for operation: ${reason}`);
export const httpBadRequest = make(400, 'HTTPBadRequest');
export const badRequest = (resource: string, msg: string) => make(400, 'BadRequest')(`Bad ${resource} request: ${msg}`);
export const policyNotAuthorized = (rule: string) => make(403, 'PolicyNotAuthorized')(`(rule:${rule}) is disallowed by policy`);
export const conflict = (type: string, message: string) => make(409, type)(message);
export const bad = (type: string, message: string) => make(400, type)(message);
export const notFound = (type: string, message: string) => make(404, type)(message);

export const NotFound = {
  network: (id: string) => notFound('NetworkNotFound', `Network ${id} could not be found.`),
  subnet: (id: string) => notFound('SubnetNotFound', `Subnet ${id} could not be found.`),
  port: (id: string) => notFound('PortNotFound', `Port ${id} could not be found.`),
  router: (id: string) => notFound('RouterNotFound', `Router ${id} could not be found.`),
  floatingip: (id: string) => notFound('FloatingIPNotFound', `Floating IP ${id} could not be found`),
  securityGroup: (id: string) => notFound('SecurityGroupNotFound', `Security group ${id} does not exist`),
  securityGroupRule: (id: string) => notFound('SecurityGroupRuleNotFound', `Security group rule ${id} does not exist`),
  subnetpool: (id: string) => notFound('SubnetPoolNotFound', `Subnet pool ${id} could not be found.`),
  rbacPolicy: (id: string) => notFound('RbacPolicyNotFound', `RBAC policy with type network and id ${id} not found`),
  agent: (id: string) => notFound('AgentNotFound', `Agent ${id} could not be found.`),
  portForwarding: (id: string) => notFound('PortForwardingNotFound', `Port Forwarding ${id} could not be found.`),
  tag: (tag: string) => notFound('TagNotFound', `Tag ${tag} could not be found.`),
  tagResource: (type: string, id: string) => notFound('TagResourceNotFound', `Resource ${type} ${id} could not be found.`),
  extension: (alias: string) => notFound('HTTPNotFound', `Extension with alias ${alias} does not exist`),
  availability: (id: string) => notFound('NetworkNotFound', `Network ${id} could not be found.`),
};

export function overQuota(resources: string[]): ApiError {
  const list = `[${[...resources].sort().map((r) => `'${r}'`).join(', ')}]`;
  return conflict('OverQuota', `Quota exceeded for resources: ${list}.`);
}
