import type { FastifyRequest } from 'fastify';
import { authOf, headerValue, requireToken } from '../../core/auth/auth-hook.js';
import type { TokenValidator } from '../../core/auth/token-validator.js';
import type { NetworkDeps } from '../service/deps.js';
import { callerFrom, type Caller } from '../service/policy.js';
import { parseIfMatch } from '../service/standard-attrs.js';

/** What the route modules share. */
export interface NetworkApi {
  deps: NetworkDeps;
  /** preHandler: a valid X-Auth-Token (401 otherwise). */
  authenticate: (req: FastifyRequest) => Promise<void>;
  caller(req: FastifyRequest): Caller;
  /** The `If-Match: revision_number=N` constraint, if any. */
  ifMatch(req: FastifyRequest): number | undefined;
}

export function createNetworkApi(deps: NetworkDeps, validator: TokenValidator): NetworkApi {
  return {
    deps,
    authenticate: requireToken(validator),
    caller: (req) => callerFrom(authOf(req), deps.enforcer),
    ifMatch: (req) => parseIfMatch(headerValue(req, 'if-match')),
  };
}

export type Params = { Params: Record<string, string>; Querystring: Record<string, string | string[] | undefined> };
