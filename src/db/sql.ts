import { createHash } from 'node:crypto';
import type { SQL } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
import type { Database, Executor } from './client.js';

export interface QueryOptions {
  /**
   * Run as a named prepared statement: PostgreSQL parses and plans it once per connection instead
   * of on every call. For the hot statements, whose planning cost more than their execution
   * (docs/decisions/0012-performance.md). Only for a statement whose text never varies (no list
   * spliced in): each distinct text stays prepared on every connection for its lifetime.
   */
  prepared?: boolean;
}

const dialect = new PgDialect();

/** One name per text (a hash), so a name never meets a second text on a connection. */
const statementNames = new Map<string, string>();
const nameOf = (text: string): string => {
  let name = statementNames.get(text);
  if (name === undefined) {
    name = `overture_${createHash('sha1').update(text).digest('hex').slice(0, 16)}`;
    statementNames.set(text, name);
  }
  return name;
};

/**
 * Runs a statement written with drizzle's `sql` template (parameters, never spliced values) and
 * returns its rows, typed by the caller: int8 columns come back as numbers and timestamptz as
 * Dates on both drivers (src/db/client.ts). Compiled by drizzle's public `PgDialect.sqlToQuery`,
 * run by the driver itself (decision 0031).
 */
export async function query<T>(
  db: Executor,
  statement: SQL,
  options: QueryOptions = {},
): Promise<T[]> {
  const { sql: text, params } = dialect.sqlToQuery(statement);
  return db.run<T>(
    options.prepared ? { text, values: params, name: nameOf(text) } : { text, values: params },
  );
}

export async function queryOne<T>(
  db: Executor,
  statement: SQL,
  options: QueryOptions = {},
): Promise<T | undefined> {
  const rows = await query<T>(db, statement, options);
  return rows[0];
}

interface PgErrorFields {
  code?: unknown;
  constraint?: unknown;
  cause?: unknown;
}

/** The PostgreSQL error, as the driver threw it or under a wrapper that keeps it as `cause`. */
function pgError(error: unknown): PgErrorFields | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && typeof current === 'object' && current !== null; depth++) {
    const fields = current as PgErrorFields;
    if (typeof fields.code === 'string' && /^[0-9A-Z]{5}$/.test(fields.code)) return fields;
    current = fields.cause;
  }
  return undefined;
}

/** The constraint a unique or check violation (class 23) names, if the error is one. */
export function violatedConstraint(error: unknown): string | undefined {
  const fields = pgError(error);
  return typeof fields?.code === 'string' &&
    fields.code.startsWith('23') &&
    typeof fields.constraint === 'string'
    ? fields.constraint
    : undefined;
}

/** Socket-level failures node-postgres passes through (their `code` is not a SQLSTATE). */
const SOCKET_ERRORS = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND']);

/** What node-postgres says when a connection is gone or never came. */
const LOST_CONNECTION =
  /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Client was closed and is not queryable/;

/**
 * Errors that mean "the database is unreachable or refusing work right now", answered as 503:
 * connection failures (class 08), shutdown/cancel (57), too many connections / out of resources
 * (53), and socket errors from the driver, as when a ROLLBACK fails on a client whose connection
 * died — also under a wrapper that keeps the driver's error as `cause` (drizzle's
 * DrizzleQueryError). The first decisive error down the cause chain decides.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && typeof current === 'object' && current !== null; depth++) {
    const { code, message, cause } = current as {
      code?: unknown;
      message?: unknown;
      cause?: unknown;
    };
    if (typeof code === 'string') {
      // Before the SQLSTATE test: EPIPE is five capital letters too.
      if (SOCKET_ERRORS.has(code)) return true;
      if (/^[0-9A-Z]{5}$/.test(code)) return /^(08|53|57)/.test(code);
    }
    if (typeof message === 'string' && LOST_CONNECTION.test(message)) return true;
    current = cause;
  }
  return false;
}

/** Deadlock victim or serialization failure: the transaction did nothing and may simply run again. */
const isTransientConflict = (error: unknown): boolean => {
  const code = pgError(error)?.code;
  return code === '40P01' || code === '40001';
};

/**
 * Runs `work` in a transaction, running it again (up to 3 times) when PostgreSQL aborted it as a
 * deadlock victim or serialization failure.
 */
export async function transaction<T>(
  database: Database,
  work: (tx: Executor) => Promise<T>,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await database.transaction(work);
    } catch (error) {
      if (attempt >= 3 || !isTransientConflict(error)) throw error;
    }
  }
}
