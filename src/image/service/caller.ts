import type { AuthContext } from '../../core/auth/context.js';

/** Who is calling, as the image rules need it. */
export interface Caller {
  auth: AuthContext;
  /** Project of the token (the owner of what it creates); null for unscoped/domain/system tokens. */
  projectId: string | null;
  /** Cloud admin (Glance `context_is_admin`). */
  admin: boolean;
  requestId: string;
}
