import { sql, type SQL } from 'drizzle-orm';
import type { Database, Executor } from '../../db/client.js';
import { query } from '../../db/sql.js';
import type { AuditEntry, AuditLog } from './audit.store.js';

const insert = (entry: AuditEntry): SQL =>
  sql`INSERT INTO audit_log (actor, action, outcome, code, target_type, target_id, before, after, request_id)
      VALUES (${entry.actor}, ${entry.action}, ${entry.outcome}, ${entry.code}, ${entry.targetType},
              ${entry.targetId}, ${json(entry.before)}::jsonb, ${json(entry.after)}::jsonb, ${entry.requestId})`;

const json = (value: unknown): string | null =>
  value === undefined || value === null ? null : JSON.stringify(value);

interface Row {
  id: number;
  at: Date;
  actor: string;
  action: string;
  outcome: 'SUCCESS' | 'REFUSED';
  code: string | null;
  target_type: string;
  target_id: string | null;
  before: unknown;
  after: unknown;
  request_id: string | null;
}

export function createPostgresAuditLog(database: Database): AuditLog {
  return {
    async appendIn(tx: Executor, entry) {
      await query(tx, insert(entry));
    },

    async append(entry) {
      await query(database, insert(entry));
    },

    async list(filter) {
      const conditions: SQL[] = [sql`true`];
      if (filter.action !== undefined) conditions.push(sql`action = ${filter.action}`);
      if (filter.targetType !== undefined) conditions.push(sql`target_type = ${filter.targetType}`);
      if (filter.targetId !== undefined) conditions.push(sql`target_id = ${filter.targetId}`);
      if (filter.actor !== undefined) conditions.push(sql`actor = ${filter.actor}`);
      if (filter.outcome !== undefined) conditions.push(sql`outcome = ${filter.outcome}`);
      if (filter.from !== undefined) conditions.push(sql`at >= ${filter.from.toISOString()}`);
      if (filter.to !== undefined) conditions.push(sql`at < ${filter.to.toISOString()}`);
      if (filter.before !== undefined) conditions.push(sql`id < ${filter.before}`);
      // Newest first by id, which grows with time; the filters' indexes end in id.
      const rows = await query<Row>(
        database,
        sql`SELECT id, at, actor, action, outcome, code, target_type, target_id, before, after, request_id
            FROM audit_log WHERE ${sql.join(conditions, sql` AND `)}
            ORDER BY id DESC LIMIT ${filter.limit}`,
      );
      return rows.map((row) => ({
        auditId: row.id,
        at: row.at.toISOString(),
        actor: row.actor,
        action: row.action,
        outcome: row.outcome,
        code: row.code,
        targetType: row.target_type,
        targetId: row.target_id,
        before: row.before ?? null,
        after: row.after ?? null,
        requestId: row.request_id ?? '',
      }));
    },
  };
}
