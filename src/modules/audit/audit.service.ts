import type { Logger } from 'pino';
import type { AuditContext, AuditFilter, AuditLog, AuditRecord } from './audit.store.js';

/** What an operator action is, as the audit log names it (route config `audit`). */
export interface AuditedAction {
  /** `venue.create`, `venue.update`, … */
  action: string;
  targetType: string;
}

export function createAuditService(deps: { log: AuditLog; logger?: Logger }) {
  const { log } = deps;
  return {
    list(filter: AuditFilter): Promise<AuditRecord[]> {
      return log.list(filter);
    },

    /**
     * Records an authenticated operator's refused action (it changed nothing). A failure to record
     * is logged, never turned into another reply: the refusal stands.
     */
    async refused(
      context: AuditContext,
      what: AuditedAction & { targetId: string | null; code: string; message: string },
    ): Promise<void> {
      try {
        await log.append({
          ...context,
          action: what.action,
          targetType: what.targetType,
          targetId: what.targetId,
          outcome: 'REFUSED',
          code: what.code,
          before: null,
          after: { message: what.message },
        });
      } catch (error) {
        deps.logger?.error(
          { err: error, action: what.action },
          'audit: a refusal was not recorded',
        );
      }
    },
  };
}

export type AuditService = ReturnType<typeof createAuditService>;
