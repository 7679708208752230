import type { Database } from '../../core/db/database.js';
import { createAppCredentialRepo } from '../db/app-credential-repo.js';
import { createCatalogRepo } from '../db/catalog-repo.js';
import { createConsumerRepo } from '../db/consumer-repo.js';
import { createCredentialRepo } from '../db/credential-repo.js';
import { createDomainConfigRepo } from '../db/domain-config-repo.js';
import { createEndpointFilterRepo } from '../db/endpoint-filter-repo.js';
import { createLimitRepo } from '../db/limit-repo.js';
import { createPolicyRepo } from '../db/policy-repo.js';
import { createTrustRepo } from '../db/trust-repo.js';
import { identityDb, type IdentityDb } from '../db/identity-db.js';
import { createProjectRepo } from '../db/project-repo.js';
import { createRevocationRepo } from '../db/revocation-repo.js';
import { createAssignmentRepo, createRoleRepo } from '../db/role-repo.js';
import { createGroupRepo, createUserRepo } from '../db/user-repo.js';

/** All identity repositories over one database handle (or one transaction). */
export function createIdentityRepos(db: IdentityDb) {
  return {
    db,
    projects: createProjectRepo(db),
    users: createUserRepo(db),
    groups: createGroupRepo(db),
    roles: createRoleRepo(db),
    assignments: createAssignmentRepo(db),
    catalog: createCatalogRepo(db),
    revocations: createRevocationRepo(db),
    appCredentials: createAppCredentialRepo(db),
    credentials: createCredentialRepo(db),
    trusts: createTrustRepo(db),
    limits: createLimitRepo(db),
    policies: createPolicyRepo(db),
    consumers: createConsumerRepo(db),
    domainConfigs: createDomainConfigRepo(db),
    endpointFilter: createEndpointFilterRepo(db),
  };
}

export type IdentityRepos = ReturnType<typeof createIdentityRepos>;

export function reposFor(database: Database): IdentityRepos {
  return createIdentityRepos(identityDb(database));
}
