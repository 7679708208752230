import type { Database } from '../../core/db/database.js';
import { createCatalogRepo } from '../db/catalog-repo.js';
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
  };
}

export type IdentityRepos = ReturnType<typeof createIdentityRepos>;

export function reposFor(database: Database): IdentityRepos {
  return createIdentityRepos(identityDb(database));
}
