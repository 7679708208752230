import { Errors } from '../../core/errors.js';
import { isUniqueViolation } from '../../core/db/database.js';
import type { ImageConfig } from '../config.js';
import type { ImageRepo } from '../db/image-repo.js';
import type { MemberRepo } from '../db/member-repo.js';
import type { ImageRow, MemberRow, MemberStatus } from '../db/tables.js';
import type { Access } from './access.js';
import type { Caller } from './caller.js';
import type { ImagePolicy } from './policy.js';
import { toStoredTime } from './time.js';

const STATUSES: MemberStatus[] = ['pending', 'accepted', 'rejected'];

/**
 * Image members with Glance's rules: only `shared` images have members; the
 * owner adds and removes them; only the member itself (or an admin) accepts
 * or rejects; a member sees only its own row.
 */
export function createMemberService(deps: { config: ImageConfig; images: ImageRepo; members: MemberRepo; access: Access; policy: ImagePolicy }) {
  const { config, images, members, access, policy } = deps;

  async function image(id: string, caller: Caller): Promise<ImageRow> {
    const row = await images.get(id);
    if (!row || !(await access.canSee(row, caller))) throw Errors.notFoundMessage(`Image ${id} not found.`);
    return row;
  }

  return {
    async add(caller: Caller, imageId: string, body: unknown): Promise<MemberRow> {
      const img = await image(imageId, caller);
      policy.authorize(caller, 'add_member', img);
      if (body === undefined || body === null) throw Errors.badRequest('Body expected in request.');
      if (typeof body !== 'object' || Array.isArray(body)) throw Errors.badRequest('Member to be added not specified');
      const o = body as Record<string, unknown>;
      if (!('member' in o)) throw Errors.badRequest('Member to be added not specified');
      const member = o['member'];
      if (typeof member !== 'string') throw Errors.badRequest('Member to be added not specified');
      if (member.trim() === '') throw Errors.badRequest("Member can't be empty");
      if (member.length > 255) throw Errors.badRequest('Member id is too long');
      if (img.visibility !== 'shared' || (!caller.admin && !access.isOwner(img, caller))) {
        throw Errors.forbidden(`Not allowed to create members for image ${imageId}.`);
      }
      if (config.imageMemberQuota >= 0 && (await members.count(imageId)) + 1 > config.imageMemberQuota) {
        throw Errors.overQuota(`Maximum number of image members exceeded: maximum ${config.imageMemberQuota}`);
      }
      const now = toStoredTime();
      const row: MemberRow = { image_id: imageId, member, status: 'pending', created_at: now, updated_at: now };
      try {
        await members.insert(row);
      } catch (err) {
        if (isUniqueViolation(err)) throw Errors.conflict(`Member ${member} is duplicated for image ${imageId}`);
        throw err;
      }
      return row;
    },

    async list(caller: Caller, imageId: string): Promise<MemberRow[]> {
      const img = await image(imageId, caller);
      policy.authorize(caller, 'get_members', img);
      if (img.visibility !== 'shared') {
        throw Errors.forbidden(`Not allowed to list members for image ${imageId}: Only shared images have members.`);
      }
      const rows = await members.list(imageId);
      if (caller.admin || access.isOwner(img, caller)) return rows;
      return rows.filter((r) => r.member === caller.projectId);
    },

    async get(caller: Caller, imageId: string, memberId: string): Promise<MemberRow> {
      const img = await image(imageId, caller);
      policy.authorize(caller, 'get_member', img);
      const notFound = () => Errors.notFoundMessage(`Member ${memberId} not found for image ${imageId}`);
      if (img.visibility !== 'shared') throw notFound();
      if (!caller.admin && !access.isOwner(img, caller) && memberId !== caller.projectId) throw notFound();
      const row = await members.get(imageId, memberId);
      if (!row) throw notFound();
      return row;
    },

    async update(caller: Caller, imageId: string, memberId: string, body: unknown): Promise<MemberRow> {
      const img = await image(imageId, caller);
      policy.authorize(caller, 'modify_member', img);
      if (body === undefined || body === null) throw Errors.badRequest('Body expected in request.');
      const status = typeof body === 'object' && !Array.isArray(body) ? (body as Record<string, unknown>)['status'] : undefined;
      if (status === undefined) throw Errors.badRequest('Status not specified');
      if (!STATUSES.includes(status as MemberStatus)) {
        throw Errors.badRequest('Incorrect request: Status must be "pending", "accepted" or "rejected".');
      }
      const row = await members.get(imageId, memberId);
      if (!row || img.visibility !== 'shared') throw Errors.notFoundMessage(`Member ${memberId} not found for image ${imageId}`);
      if (!caller.admin && memberId !== caller.projectId) {
        if (access.isOwner(img, caller)) throw Errors.forbidden(`Not allowed to update members for image ${imageId}.`);
        throw Errors.notFoundMessage(`Member ${memberId} not found for image ${imageId}`);
      }
      const now = toStoredTime();
      await members.setStatus(imageId, memberId, status as MemberStatus, now);
      return { ...row, status: status as MemberStatus, updated_at: now };
    },

    async delete(caller: Caller, imageId: string, memberId: string): Promise<void> {
      const img = await image(imageId, caller);
      policy.authorize(caller, 'delete_member', img);
      if (img.visibility !== 'shared') throw Errors.forbidden(`Not allowed to delete members for image ${imageId}.`);
      if (!caller.admin && !access.isOwner(img, caller)) {
        if (memberId === caller.projectId) throw Errors.forbidden(`Not allowed to delete members for image ${imageId}.`);
        throw Errors.notFoundMessage(`Member ${memberId} not found for image ${imageId}`);
      }
      if (!(await members.delete(imageId, memberId))) throw Errors.notFoundMessage(`Member ${memberId} not found for image ${imageId}`);
    },
  };
}

export type MemberService = ReturnType<typeof createMemberService>;
