import type { Bus } from '../../core/bus/bus.js';
import type { Log } from '../../core/log.js';
import type { Enforcer } from '../../core/policy/enforcer.js';
import type { VolumeConfig } from '../config.js';
import type { VolumeRepos } from '../db/volume-db.js';
import type { ComputeClient } from './clients/compute-client.js';
import type { ImageClient } from './clients/image-client.js';
import { createQuotas, type Quotas } from './quotas.js';
import { createTypeService, type TypeService } from './types.js';
import { createUserMessages, type UserMessages } from './user-messages.js';

export interface VolumeCoreDeps {
  repos: VolumeRepos;
  config: VolumeConfig;
  log: Log;
  bus: Bus;
  /** This machine's name in Cinder hosts (`host@backend#pool`). */
  host: string;
  images: ImageClient;
  compute: ComputeClient;
  enforcer: Enforcer;
}

/** The volume service's rules and shared helpers, as the API (and tests) use them. */
export interface VolumeCore extends VolumeCoreDeps {
  quotas: Quotas;
  types: TypeService;
  messages: UserMessages;
}

export function createVolumeCore(deps: VolumeCoreDeps): VolumeCore {
  return {
    ...deps,
    quotas: createQuotas(deps.repos, deps.config),
    types: createTypeService(deps.repos, deps.config.defaultVolumeType),
    messages: createUserMessages(deps.repos, deps.config.messageTtlSeconds),
  };
}
