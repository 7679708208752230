import type { AuthContext } from './context.js';

/**
 * Validates tokens for a service API (what keystonemiddleware does). The
 * in-process implementation asks the identity service directly; the remote
 * one calls Keystone's GET /v3/auth/tokens and caches the answer.
 */
export interface TokenValidator {
  /** Resolves the token or throws a 401 ApiError; `allowExpired` is for service-token flows. */
  validate(token: string, options?: { allowExpired?: boolean }): Promise<AuthContext>;
}
