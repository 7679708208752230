import { isoSeconds } from '../../core/ids.js';
import type { NetQ } from '../db/tables.js';
import { httpBadRequest } from './faults.js';
import { Errors } from '../../core/errors.js';

/**
 * Neutron's "standard attributes": description, revision_number (bumped on
 * every change, checked by `If-Match: revision_number=N`), created_at /
 * updated_at in whole seconds, and tags.
 */

export function nowTs(): string {
  return isoSeconds(new Date());
}

export function standardNew(description = ''): { description: string; revision_number: number; created_at: string; updated_at: string } {
  const now = nowTs();
  return { description, revision_number: 0, created_at: now, updated_at: now };
}

/** The `If-Match` header: `revision_number=N` constrains; other etags are ignored. */
export function parseIfMatch(header: string | undefined): number | undefined {
  if (!header) return undefined;
  for (const part of header.split(',')) {
    const p = part.trim();
    if (!p.startsWith('revision_number=')) continue;
    const n = p.slice('revision_number='.length);
    if (!/^\d+$/.test(n)) throw httpBadRequest(`Could not parse If-Match header: ${header}`);
    return Number(n);
  }
  return undefined;
}

export function checkRevision(expected: number | undefined, current: number): void {
  if (expected === undefined || expected === current) return;
  throw Errors.preconditionFailed(`Constrained to ${expected}, but current revision is ${current}`, { code: 'RevisionNumberConstraintFailed' });
}

export async function tagsOf(q: NetQ, ids: string[]): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  for (let i = 0; i < ids.length; i += 500) {
    const chunk = ids.slice(i, i + 500);
    if (chunk.length === 0) break;
    const rows = await q.selectFrom('net_tag').selectAll().where('resource_id', 'in', chunk).orderBy('tag').execute();
    for (const r of rows) {
      const list = out.get(r.resource_id);
      if (list) list.push(r.tag);
      else out.set(r.resource_id, [r.tag]);
    }
  }
  return out;
}

/** Bumps the revision (and updated_at) of a row of a standard-attr table. */
export async function bumpRevision(
  q: NetQ,
  table: 'net_network' | 'net_subnet' | 'net_port' | 'net_router' | 'net_floatingip' | 'net_security_group' | 'net_security_group_rule' | 'net_subnetpool',
  id: string,
): Promise<void> {
  await q
    .updateTable(table)
    .set((eb) => ({ revision_number: eb('revision_number', '+', 1), updated_at: nowTs() }))
    .where('id', '=', id)
    .execute();
}

export const TAG_MAX = 255;

export function validateTags(tags: unknown): string[] {
  if (!Array.isArray(tags)) throw Errors.badRequest('Invalid input for tags: not a list', { code: 'InvalidInput' });
  const seen = new Set<string>();
  for (const t of tags) {
    if (typeof t !== 'string' || t.length === 0 || t.length > TAG_MAX) {
      throw Errors.badRequest(`Invalid input for operation: '${String(t)}' is not a valid tag.`, { code: 'InvalidInput' });
    }
    if (seen.has(t)) throw Errors.badRequest(`Invalid input for operation: Duplicate items in the list: '${t}'.`, { code: 'InvalidInput' });
    seen.add(t);
  }
  return tags as string[];
}

