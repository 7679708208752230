import { join } from 'node:path';
import type { Database } from '../../core/db/database.js';
import type { Log } from '../../core/log.js';
import { readPolicyFile } from '../../core/policy/enforcer.js';
import type { ImageConfig } from '../config.js';
import { imageDb } from '../db/image-db.js';
import { createImageRepo, type ImageRepo } from '../db/image-repo.js';
import { createMemberRepo, type MemberRepo } from '../db/member-repo.js';
import { createMetadefRepo, type MetadefRepo } from '../db/metadef-repo.js';
import { createTaskRepo, type TaskRepo } from '../db/task-repo.js';
import { createStoreRegistry, type StoreRegistry } from '../stores/registry.js';
import { createAccess, type Access } from './access.js';
import { createDataService, type DataService } from './data-service.js';
import { createImageService, type ImageService } from './image-service.js';
import { createImportService, type ImportService } from './import-service.js';
import { createMemberService, type MemberService } from './member-service.js';
import { createMetadefService, type MetadefService } from './metadef-service.js';
import { createImagePolicy, type ImagePolicy } from './policy.js';
import { createQuotas, type Quotas } from './quotas.js';
import { HASH_ALGORITHMS } from './data-pipeline.js';
import { createHashers, type Hashers } from './hash-workers.js';
import { createBackgroundHasher, type BackgroundHasher } from './background-hasher.js';

export interface ImageCoreDeps {
  database: Database;
  config: ImageConfig;
  dataDir: string;
  log: Log;
}

/** The image service's parts wired together (convention 7: a factory, no globals). */
export interface ImageCore {
  config: ImageConfig;
  dataDir: string;
  log: Log;
  repos: { images: ImageRepo; members: MemberRepo; tasks: TaskRepo; metadefs: MetadefRepo };
  stores: StoreRegistry;
  policy: ImagePolicy;
  access: Access;
  quotas: Quotas;
  /** Worker threads computing checksums of image data. */
  hashers: Hashers;
  backgroundHasher: BackgroundHasher;
  images: ImageService;
  members: MemberService;
  data: DataService;
  imports: ImportService;
  metadefs: MetadefService;
  close(): Promise<void>;
}

export function createImageCore(deps: ImageCoreDeps): ImageCore {
  const { config, log, dataDir } = deps;
  const db = imageDb(deps.database);
  const repos = { images: createImageRepo(db), members: createMemberRepo(db), tasks: createTaskRepo(db), metadefs: createMetadefRepo(db) };
  const stores = createStoreRegistry(config, dataDir);
  const policyFile = config.policyFile || join(dataDir, 'image-policy.yaml');
  const policy = createImagePolicy(readPolicyFile(policyFile));
  const access = createAccess(repos.images, repos.members);
  const quotas = createQuotas(config, repos.images);
  const hashers = createHashers(HASH_ALGORITHMS);
  const backgroundHasher = createBackgroundHasher({ images: repos.images, stores, hashers, log });
  const common = { config, log, images: repos.images, access, quotas, policy, stores, hashers, backgroundHasher };
  return {
    config,
    dataDir,
    log,
    repos,
    stores,
    policy,
    access,
    quotas,
    hashers,
    backgroundHasher,
    images: createImageService(common),
    members: createMemberService({ config, images: repos.images, members: repos.members, access, policy }),
    data: createDataService(common),
    imports: createImportService({ ...common, tasks: repos.tasks }),
    metadefs: createMetadefService({ repo: repos.metadefs, policy }),
    async close() {
      await backgroundHasher.drain(true);
      await hashers.close();
    },
  };
}
