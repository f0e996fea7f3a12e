import type { Executor } from '../../db/client.js';

/** Who did an operator action, and in which request. */
export interface AuditContext {
  actor: string;
  requestId: string;
}

/** One operator action as recorded. */
export interface AuditEntry extends AuditContext {
  action: string;
  outcome: 'SUCCESS' | 'REFUSED';
  /** The refusal's error code; null on success. */
  code: string | null;
  targetType: string;
  targetId: string | null;
  before: unknown;
  after: unknown;
}

export interface AuditRecord extends AuditEntry {
  auditId: number;
  at: string;
}

export interface AuditFilter {
  action?: string;
  targetType?: string;
  targetId?: string;
  actor?: string;
  outcome?: 'SUCCESS' | 'REFUSED';
  /** Inclusive lower and exclusive upper bounds of `at`. */
  from?: Date;
  to?: Date;
  /** Entries older than this audit id (the previous page's `nextBefore`). */
  before?: number;
  limit: number;
}

/**
 * The append-only audit log (docs/decisions/0034). `appendIn` writes inside the caller's
 * transaction, so the record commits or rolls back with the change it describes.
 */
export interface AuditLog {
  appendIn(tx: Executor, entry: AuditEntry): Promise<void>;
  /** A refusal, which changed nothing: recorded on its own. */
  append(entry: AuditEntry): Promise<void>;
  /** Newest first. */
  list(filter: AuditFilter): Promise<AuditRecord[]>;
}
