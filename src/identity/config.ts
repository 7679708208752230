import { Type } from '@sinclair/typebox';
import { Port, section } from '../core/config/types.js';

/** Keystone's [security_compliance] options; 0 / empty disables each check, as in Keystone. */
export const securityComplianceSection = section({
  lockoutFailureAttempts: Type.Integer({ minimum: 0, default: 0, description: 'failed logins before the user is locked out (0 = never)' }),
  lockoutDurationSeconds: Type.Integer({ minimum: 1, default: 1800, description: 'how long a locked-out user stays locked' }),
  passwordExpiresDays: Type.Integer({ minimum: 0, default: 0, description: 'days a password stays valid (0 = forever)' }),
  uniqueLastPasswordCount: Type.Integer({ minimum: 0, default: 0, description: 'a new password (self-service) may not repeat any of the last N, the current one included (0 = off)' }),
  minimumPasswordAgeDays: Type.Integer({ minimum: 0, default: 0, description: 'days before a user may change their password again' }),
  passwordRegex: Type.String({ default: '', description: 'regular expression every new password must match' }),
  passwordRegexDescription: Type.String({ default: '', description: 'human description of passwordRegex, shown on failure' }),
  changePasswordUponFirstUse: Type.Boolean({ default: false, description: 'new users (and admin resets) must change their password before use' }),
  disableUserAccountDaysInactive: Type.Integer({ minimum: 0, default: 0, description: 'disable users who have not authenticated for N days (0 = off)' }),
});

export const identitySection = section({
  enabled: Type.Boolean({ default: true }),
  port: Port(5000, 'Keystone v3 API port'),
  tokenExpirationSeconds: Type.Integer({ minimum: 60, default: 3600, description: 'token lifetime' }),
  allowExpiredWindowSeconds: Type.Integer({ minimum: 0, default: 172800, description: 'how long after expiry a service may still validate a token with allow_expired' }),
  fernetMaxActiveKeys: Type.Integer({ minimum: 3, default: 3, description: 'keys kept in the fernet key repository (primary + secondary + staged)' }),
  fernetKeyRepository: Type.String({ default: '', description: 'directory of fernet keys (default: <dataDir>/fernet-keys)' }),
  credentialKeyRepository: Type.String({ default: '', description: 'directory of the Fernet keys that encrypt stored credentials (default: <dataDir>/credential-keys)' }),
  passwordHash: section({
    // scrypt: memory-hard, from Node's crypto, on libuv's pool at a lower priority (off the
    // event loop). N=2^15, r=8, p=2 takes about as long as Keystone's bcrypt cost 12 here
    // (~250-300 ms of CPU) but needs 32 MiB per guess instead of 4 KiB, so it is far
    // costlier to attack on GPUs. (OWASP lists N=2^15, r=8, p=3.) Buffers above 32 MiB are
    // always mmap'ed by glibc, so they go back to the OS after each check.
    scryptN: Type.Integer({ minimum: 1024, default: 32768, description: 'scrypt CPU/memory cost N (power of two)' }),
    scryptR: Type.Integer({ minimum: 1, default: 8, description: 'scrypt block size r' }),
    scryptP: Type.Integer({ minimum: 1, default: 2, description: 'scrypt parallelisation p (computed serially: more time, same memory)' }),
    maxConcurrent: Type.Integer({ minimum: 1, default: 2, description: 'password checks run at once (more wait in a queue)' }),
    niceness: Type.Integer({ minimum: 0, maximum: 19, default: 10, description: "nice value of libuv's pool threads where hashing runs, so token validation keeps the CPU (Linux)" }),
  }),
  securityCompliance: securityComplianceSection,
  maxRequestBodyBytes: Type.Integer({ minimum: 1024, default: 114688, description: 'largest accepted request body (Keystone: max_request_body_size)' }),
  listLimit: Type.Integer({ minimum: 0, default: 0, description: 'cap on list sizes (0 = none), Keystone list_limit' }),
  policyFile: Type.String({ default: '', description: 'policy.yaml with rule overrides (default: <dataDir>/policy.yaml if it exists)' }),
});
