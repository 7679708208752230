import { isUniqueViolation } from '../../core/db/database.js';
import { Errors } from '../../core/errors.js';
import { isoNow, newUuid } from '../../core/ids.js';
import type { VolumeTypeRow } from '../db/tables.js';
import type { VolumeRepos } from '../db/volume-db.js';

export interface Caller {
  projectId: string;
  admin: boolean;
}

/** Volume type lookups shared by every workflow: by id or name, with private-type access, and the default type. */
export function createTypeService(repos: VolumeRepos, defaultTypeName: string) {
  async function ensureDefault(): Promise<VolumeTypeRow> {
    const existing = await repos.types.getByName(defaultTypeName);
    if (existing) return existing;
    const row: VolumeTypeRow = {
      id: newUuid(),
      name: defaultTypeName,
      description: 'Default Volume Type',
      is_public: 1,
      qos_specs_id: null,
      created_at: isoNow(),
      updated_at: null,
    };
    try {
      await repos.types.insert(row, {});
      return row;
    } catch (err) {
      // Another process created it first.
      if (isUniqueViolation(err)) return (await repos.types.getByName(defaultTypeName))!;
      throw err;
    }
  }

  function visible(t: VolumeTypeRow, caller: Caller, access: string[]): boolean {
    return t.is_public === 1 || caller.admin || access.includes(caller.projectId);
  }

  return {
    ensureDefault,
    /** A type by id or name as the caller may use it; 404 otherwise (private types without access included). */
    async resolve(ref: string, caller: Caller): Promise<VolumeTypeRow> {
      const t = (await repos.types.get(ref)) ?? (await repos.types.getByName(ref));
      if (!t || !visible(t, caller, await repos.types.accessList(t.id))) {
        throw Errors.notFoundMessage(`Volume type with name ${ref} could not be found.`);
      }
      return t;
    },
    /** The project's default type (Cinder default-types API), else the configured one. */
    async defaultFor(projectId: string): Promise<VolumeTypeRow> {
      const own = await repos.types.defaultTypeOf(projectId);
      if (own) {
        const t = await repos.types.get(own);
        if (t) return t;
      }
      return ensureDefault();
    },
    isVisible: visible,
    async byId(): Promise<Map<string, VolumeTypeRow>> {
      return new Map((await repos.types.list()).map((t) => [t.id, t]));
    },
    defaultTypeName,
  };
}
export type TypeService = ReturnType<typeof createTypeService>;
