/**
 * What a service knows about the caller once the token is validated — the
 * equivalent of the headers keystonemiddleware sets (X-User-Id, X-Roles, …).
 */
export interface AuthContext {
  /** The token itself, to call other services on the user's behalf. */
  token: string;
  userId: string;
  userName: string;
  userDomainId: string;
  userDomainName: string;
  projectId?: string;
  projectName?: string;
  projectDomainId?: string;
  projectDomainName?: string;
  /** Set for a domain-scoped token. */
  domainId?: string;
  domainName?: string;
  /** True for a system-scoped token (`system: {all: true}`). */
  system?: boolean;
  /** Role names, lower-cased, implied roles included. */
  roles: string[];
  roleIds: string[];
  isAdminProject: boolean;
  expiresAt: Date;
  issuedAt: Date;
  methods: string[];
  auditIds: string[];
  appCredentialId?: string;
  /** Set when the token comes from an application credential with access rules (see access-rules.ts). */
  accessRules?: AccessRule[];
  trustId?: string;
  /** Roles of the service token sent in X-Service-Token alongside a user token, if valid. */
  serviceRoles?: string[];
}

/** One access rule of an application credential: which calls its tokens may make. */
export interface AccessRule {
  service: string;
  method: string;
  path: string;
}

export function hasRole(auth: AuthContext, role: string): boolean {
  return auth.roles.includes(role);
}

/** Project-scoped admin is cloud admin under OpenStack's legacy defaults, which the clients and Tempest assume. */
export function isAdmin(auth: AuthContext): boolean {
  return auth.roles.includes('admin');
}
