import { join } from 'node:path';
import type { Bus } from '../../core/bus/bus.js';
import type { Database } from '../../core/db/database.js';
import { Errors, isApiError } from '../../core/errors.js';
import type { Log } from '../../core/log.js';
import { Enforcer, readPolicyFile } from '../../core/policy/enforcer.js';
import type { TokenValidator } from '../../core/auth/token-validator.js';
import type { NimbusConfig } from '../../runtime/config-schema.js';
import { AuthService, type AuthExtensions } from './auth-service.js';
import { buildCatalog, type CatalogEntry } from './catalog-builder.js';
import { ensureKeyRepository, loadKeys, type FernetKey } from './fernet-keys.js';
import { Generation } from './generation.js';
import { identityPolicyDefaults } from './identity-policy.js';
import { createScryptHasher, type PasswordHasher } from './password-hasher.js';
import { reposFor, type IdentityRepos } from './repos.js';
import { RevocationList } from './revocations.js';
import { loadRoleGraph, type RoleGraph } from './role-resolver.js';
import { TokenService, type TokenExtensions } from './token-service.js';
import { createAppCredentialService, type AppCredentialService } from './app-credential-service.js';
import { createTrustService, type TrustService } from './trust-service.js';
import { createCredentialService, type CredentialService } from './credential-service.js';

export interface IdentityDeps {
  database: Database;
  config: NimbusConfig;
  log: Log;
  bus: Bus;
}

/** Topic on which identity processes tell each other that cached token data is stale. */
export const IDENTITY_CHANGED_TOPIC = 'identity.changed';

/**
 * The identity service's parts wired together. Features that extend tokens
 * (trusts, application credentials) register through `extensions`.
 */
export interface Identity {
  deps: IdentityDeps;
  repos: IdentityRepos;
  hasher: PasswordHasher;
  generation: Generation;
  revocations: RevocationList;
  tokens: TokenService;
  auth: AuthService;
  enforcer: Enforcer;
  tokenExtensions: TokenExtensions;
  authExtensions: AuthExtensions;
  keyRepository: string;
  /** Application credentials and trusts (they also plug into auth and tokens). */
  appCredentials: AppCredentialService;
  trusts: TrustService;
  /** Stored credentials (encrypted blobs) and EC2 keys. */
  credentials: CredentialService;
  /** Call after any write that can change what a token means. */
  changed(): void;
  reloadKeys(): void;
  catalog(): Promise<CatalogEntry[]>;
  roleGraph(): Promise<RoleGraph>;
  /** Token validation for the other services in this process. */
  validator: TokenValidator;
  close(): Promise<void>;
}

export async function createIdentity(deps: IdentityDeps): Promise<Identity> {
  const { config, database, bus } = deps;
  const ic = config.identity;
  const repos = reposFor(database);
  const generation = new Generation();
  const keyRepository = ic.fernetKeyRepository || join(config.dataDir, 'fernet-keys');
  ensureKeyRepository(keyRepository);
  let keys: FernetKey[] = loadKeys(keyRepository);

  let graph: { gen: number; value: Promise<RoleGraph> } | undefined;
  let catalogCache: { gen: number; value: Promise<CatalogEntry[]> } | undefined;
  const roleGraph = () => {
    if (!graph || graph.gen !== generation.current) graph = { gen: generation.current, value: loadRoleGraph(repos.roles) };
    return graph.value;
  };
  const catalog = () => {
    if (!catalogCache || catalogCache.gen !== generation.current) {
      catalogCache = { gen: generation.current, value: buildCatalog(repos.catalog) };
    }
    return catalogCache.value;
  };

  const revocations = new RevocationList(repos.revocations, () => generation.bump());
  await revocations.load();

  const tokenExtensions: TokenExtensions = {};
  const authExtensions: AuthExtensions = {};
  const tokens = new TokenService({
    repos,
    keys: () => keys,
    revocations,
    generation,
    roleGraph,
    catalog,
    expirationSeconds: ic.tokenExpirationSeconds,
    allowExpiredWindowSeconds: ic.allowExpiredWindowSeconds,
    adminProject: { name: 'admin', domainName: 'Default' },
    extensions: tokenExtensions,
  });
  const hasher = createScryptHasher({
    N: ic.passwordHash.scryptN,
    r: ic.passwordHash.scryptR,
    p: ic.passwordHash.scryptP,
    maxConcurrent: ic.passwordHash.maxConcurrent,
    niceness: ic.passwordHash.niceness,
  });
  const auth = new AuthService({ repos, tokens, hasher, security: ic.securityCompliance, extensions: authExtensions });
  const policyFile = ic.policyFile || join(config.dataDir, 'policy.yaml');
  const enforcer = new Enforcer({ defaults: identityPolicyDefaults, overrides: readPolicyFile(policyFile) });

  // Other identity processes (scaled out) announce their writes; revocations are re-read from the database.
  const unsubscribe = await bus.subscribe(IDENTITY_CHANGED_TOPIC, async (m) => {
    if (m['origin'] === process.pid) return;
    await revocations.load();
    generation.bump();
  });
  const resync = setInterval(() => void revocations.load().catch(() => undefined), 30_000);
  resync.unref();

  const validator: TokenValidator = {
    async validate(token, options) {
      try {
        return tokens.toAuthContext(await tokens.validate(token, options));
      } catch (err) {
        if (isApiError(err) && err.status === 404) throw Errors.unauthorized('The request you have made requires authentication.');
        throw err;
      }
    },
  };

  const identity = {
    deps,
    repos,
    hasher,
    generation,
    revocations,
    tokens,
    auth,
    enforcer,
    tokenExtensions,
    authExtensions,
    keyRepository,
    changed() {
      generation.bump();
      void bus.publish(IDENTITY_CHANGED_TOPIC, { type: 'identity.changed', v: 1, origin: process.pid });
    },
    reloadKeys() {
      keys = loadKeys(keyRepository);
    },
    catalog,
    roleGraph,
    validator,
    async close() {
      clearInterval(resync);
      await unsubscribe();
      await hasher.close();
    },
  } as Omit<Identity, 'appCredentials' | 'trusts' | 'credentials'> as Identity;
  const credentialKeyDir = ic.credentialKeyRepository || join(config.dataDir, 'credential-keys');
  ensureKeyRepository(credentialKeyDir);
  const credentialKeys = loadKeys(credentialKeyDir);
  identity.credentials = createCredentialService(identity, () => credentialKeys);
  identity.appCredentials = createAppCredentialService(identity);
  identity.trusts = createTrustService(identity);
  authExtensions.applicationCredential = (body) => identity.appCredentials.authenticate(body);
  authExtensions.trustScope = (ref, trusteeUserId) => identity.trusts.scopeForAuth(ref, trusteeUserId);
  tokenExtensions.resolveAppCredential = (id) => identity.appCredentials.resolveForToken(id);
  tokenExtensions.resolveTrust = (id) => identity.trusts.resolveForToken(id);
  return identity;
}
