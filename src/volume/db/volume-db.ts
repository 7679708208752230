import type { Kysely } from 'kysely';
import type { Database } from '../../core/db/database.js';
import { createGroupTypeRepo, createQosRepo, createServiceRepo } from './misc-repos.js';
import { createQuotaRepo } from './quota-repo.js';
import { createMetadataRepo, createResourceRepo } from './resource-repo.js';
import type { VolumeTables } from './tables.js';
import { createTypeRepo } from './type-repo.js';

const set = (...cols: string[]) => new Set(cols);

/** Every repository of the volume service over one database. */
export function createVolumeRepos(database: Database) {
  const db = database.db as Kysely<VolumeTables>;
  return {
    db,
    dialect: database.dialect,
    volumes: createResourceRepo(db, 'vol_volumes', { metadataType: 'volume', nullable: set('name', 'description', 'updated_at', 'host', 'migration_status', 'group_id') }),
    snapshots: createResourceRepo(db, 'vol_snapshots', { metadataType: 'snapshot', nullable: set('name', 'description', 'updated_at') }),
    backups: createResourceRepo(db, 'vol_backups', { metadataType: 'backup', nullable: set('name', 'description', 'updated_at', 'container') }),
    attachments: createResourceRepo(db, 'vol_attachments', { nullable: set('updated_at', 'instance_uuid') }),
    transfers: createResourceRepo(db, 'vol_transfers', { nullable: set('name', 'updated_at') }),
    messages: createResourceRepo(db, 'vol_messages', { nullable: set('request_id', 'resource_uuid'), timestamps: false }),
    groups: createResourceRepo(db, 'vol_groups', { nullable: set('name', 'description', 'updated_at') }),
    groupSnapshots: createResourceRepo(db, 'vol_group_snapshots', { nullable: set('name', 'description', 'updated_at') }),
    metadata: createMetadataRepo(db),
    quotas: createQuotaRepo(db),
    types: createTypeRepo(db),
    qos: createQosRepo(db),
    services: createServiceRepo(db),
    groupTypes: createGroupTypeRepo(db),
  };
}
export type VolumeRepos = ReturnType<typeof createVolumeRepos>;
