import { newHexId, isoMicro } from '../../core/ids.js';
import type { RevocationRepo } from '../db/revocation-repo.js';
import type { RevocationEventRow } from '../db/tables.js';

/** The token facts a revocation event can match (Keystone's revoke model). */
export interface RevocableToken {
  userId: string;
  /** Trustor and trustee for trust tokens: an event for either revokes it. */
  otherUserIds?: string[];
  projectId?: string;
  domainId?: string;
  /** Domains of the user and of the scoped project: an event on either revokes. */
  domainIds: string[];
  roleIds: string[];
  trustId?: string;
  appCredId?: string;
  auditId: string;
  auditChainId: string;
  issuedAtMs: number;
}

export interface RevocationEventInput {
  userId?: string;
  projectId?: string;
  domainId?: string;
  roleId?: string;
  trustId?: string;
  /** Application credentials revoke through `consumer_id` in our model. */
  appCredId?: string;
  auditId?: string;
  auditChainId?: string;
}

interface LoadedEvent {
  row: RevocationEventRow;
  issuedBeforeMs: number;
}

/**
 * Revocation events kept in memory (loaded at start, appended on write, and
 * re-synced from the database periodically so several identity processes agree).
 * A token is revoked when some event's set fields all match it and the token
 * was issued no later than the event.
 */
export class RevocationList {
  private events: LoadedEvent[] = [];
  private lastRevokedAt: string | undefined;

  constructor(
    private readonly repo: RevocationRepo,
    private readonly onChange: () => void,
  ) {}

  async load(): Promise<void> {
    const rows = await this.repo.listSince(this.lastRevokedAt);
    if (rows.length === 0) return;
    const known = new Set(this.events.map((e) => e.row.id));
    for (const row of rows) {
      if (known.has(row.id)) continue;
      this.events.push({ row, issuedBeforeMs: Date.parse(row.issued_before) });
      this.lastRevokedAt = row.revoked_at;
    }
    this.onChange();
  }

  async revoke(input: RevocationEventInput): Promise<void> {
    const now = new Date();
    const row: RevocationEventRow = {
      id: newHexId(),
      domain_id: input.domainId ?? null,
      project_id: input.projectId ?? null,
      user_id: input.userId ?? null,
      role_id: input.roleId ?? null,
      trust_id: input.trustId ?? null,
      consumer_id: input.appCredId ?? null,
      access_token_id: null,
      issued_before: isoMicro(now),
      expires_at: null,
      revoked_at: isoMicro(now),
      audit_id: input.auditId ?? null,
      audit_chain_id: input.auditChainId ?? null,
    };
    await this.repo.insert(row);
    this.events.push({ row, issuedBeforeMs: now.getTime() });
    this.onChange();
  }

  isRevoked(t: RevocableToken): boolean {
    for (const { row: e, issuedBeforeMs } of this.events) {
      if (t.issuedAtMs > issuedBeforeMs) continue;
      if (e.user_id !== null && e.user_id !== t.userId && !(t.otherUserIds ?? []).includes(e.user_id)) continue;
      if (e.project_id !== null && e.project_id !== t.projectId) continue;
      if (e.domain_id !== null && e.domain_id !== t.domainId && !t.domainIds.includes(e.domain_id)) continue;
      if (e.role_id !== null && !t.roleIds.includes(e.role_id)) continue;
      if (e.trust_id !== null && e.trust_id !== t.trustId) continue;
      if (e.consumer_id !== null && e.consumer_id !== t.appCredId) continue;
      if (e.audit_id !== null && e.audit_id !== t.auditId) continue;
      if (e.audit_chain_id !== null && e.audit_chain_id !== t.auditChainId) continue;
      return true;
    }
    return false;
  }

  /** Forget events older than any still-acceptable token. */
  async prune(maxTokenAgeMs: number): Promise<void> {
    const cutoffMs = Date.now() - maxTokenAgeMs;
    const before = this.events.length;
    this.events = this.events.filter((e) => e.issuedBeforeMs >= cutoffMs);
    if (this.events.length !== before) await this.repo.pruneBefore(isoMicro(new Date(cutoffMs)));
  }
}
