import { Errors } from '../../core/errors.js';
import type { MemberRepo } from '../db/member-repo.js';
import type { ImageRepo } from '../db/image-repo.js';
import type { ImageRow } from '../db/tables.js';
import type { Caller } from './caller.js';

/**
 * Tenant isolation for images (Glance's `is_image_visible` and ownership
 * rules). Someone who cannot see an image gets 404, never 403, so the
 * existence of another project's private image does not leak.
 */
export function createAccess(images: ImageRepo, members: MemberRepo) {
  async function canSee(image: ImageRow, caller: Caller): Promise<boolean> {
    if (caller.admin) return true;
    if (caller.projectId !== null && image.owner === caller.projectId) return true;
    if (image.visibility === 'public' || image.visibility === 'community') return true;
    if (image.visibility === 'shared' && caller.projectId !== null) {
      return (await members.get(image.id, caller.projectId)) !== undefined;
    }
    return false;
  }

  const isOwner = (image: ImageRow, caller: Caller) => caller.projectId !== null && image.owner === caller.projectId;

  return {
    canSee,
    isOwner,
    /** The image if the caller may see it, else 404 `No image found with ID`. */
    async visible(id: string, caller: Caller): Promise<ImageRow> {
      const image = await images.get(id);
      if (!image || !(await canSee(image, caller))) throw Errors.notFoundMessage(`No image found with ID ${id}`);
      return image;
    },
    /** The image if the caller owns it (or is admin): 404 when invisible, 403 when only visible. */
    async owned(id: string, caller: Caller, message = 'You do not own this image'): Promise<ImageRow> {
      const image = await images.get(id);
      if (!image || !(await canSee(image, caller))) throw Errors.notFoundMessage(`No image found with ID ${id}`);
      if (!caller.admin && !isOwner(image, caller)) throw Errors.forbidden(message);
      return image;
    },
  };
}

export type Access = ReturnType<typeof createAccess>;
