import { Errors } from '../errors.js';
import type { AccessRule } from './context.js';

/**
 * keystonemiddleware's path templates: `*` and `{name}` match one path
 * segment, `**` any number of them; everything else is literal.
 */
export function pathMatches(requestPath: string, pattern: string): boolean {
  let re = '';
  const tokens = /(\{[^}]*\})|(\*\*)|(\*)|([^{}*])/g;
  for (const m of pattern.matchAll(tokens)) {
    if (m[1] || m[3]) re += '[^/]+';
    else if (m[2]) re += '.*';
    else re += m[4]!.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`).test(requestPath);
}

export interface RequestFacts {
  /** This service's catalog type, e.g. `compute`. Unknown: tokens with access rules are refused. */
  serviceType?: string | undefined;
  method: string;
  /** The request path without the query string. */
  path: string;
  /** A valid X-Service-Token came along: a chain of service calls, not a user-facing request. */
  hasServiceToken?: boolean;
}

/**
 * What keystonemiddleware checks for a token made from an application
 * credential with access rules: the request must match one of them (method,
 * this service's type, path template), else 401.
 */
export function checkAccessRules(rules: AccessRule[] | undefined, req: RequestFacts): void {
  if (rules === undefined) return;
  const denied = () => Errors.unauthorized('Token authorization failed: the application credential does not allow this request.');
  if (!req.serviceType) throw denied();
  if (req.serviceType === 'identity' && req.method === 'GET' && req.path.endsWith('/v3/auth/tokens')) return;
  if (req.hasServiceToken) return;
  if (rules.some((r) => r.method === req.method && r.service === req.serviceType && pathMatches(req.path, r.path))) return;
  throw denied();
}

