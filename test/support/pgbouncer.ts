import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { chownSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import pg from 'pg';
import { describe } from 'vitest';
import { runAs } from './postgres-server.js';
import { freePort } from './process.js';

const BIN = '/usr/sbin/pgbouncer';
const installed = existsSync(BIN);
if (!installed) {
  const message = `PgBouncer is not at ${BIN} (Debian's pgbouncer package): the pooler tests cannot run`;
  if (process.env.CI === 'true' || process.env.REQUIRE_SERVICES === '1')
    throw new Error(`${message}, and CI=true/REQUIRE_SERVICES=1 requires it.`);
  process.stderr.write(`\n!!! ${message}; those tests are SKIPPED.\n\n`);
}

/** `describe` for tests that put a PgBouncer of their own in front of PostgreSQL. */
export const describeWithPgBouncer = describe.skipIf(!installed);

export interface PrivatePgBouncer {
  /** `databaseUrl` with its host and port replaced by the pooler's. */
  via(databaseUrl: string): string;
  /** Transactions the pooler has passed to PostgreSQL so far (its admin console's SHOW STATS). */
  transactions(): Promise<number>;
  dispose(): Promise<void>;
}

/**
 * A PgBouncer of the test's own on a free 127.0.0.1 port, in front of the PostgreSQL at
 * `target` (host:port), user `postgres` with trust authentication, `poolSize` server connections
 * per database. node-postgres sends statement_timeout and idle_in_transaction_session_timeout
 * as start-up parameters, which PgBouncer refuses unless told to ignore them (docs/deployment.md).
 */
export async function startPgBouncer(
  target: string,
  mode: 'session' | 'transaction',
  poolSize: number,
): Promise<PrivatePgBouncer> {
  const account = runAs();
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'overture-pgbouncer-'));
  const [host, targetPort] = target.split(':');
  writeFileSync(join(dir, 'users.txt'), '"postgres" ""\n');
  writeFileSync(
    join(dir, 'pgbouncer.ini'),
    [
      '[databases]',
      `* = host=${host} port=${targetPort}`,
      '[pgbouncer]',
      'listen_addr = 127.0.0.1',
      `listen_port = ${port}`,
      'unix_socket_dir =',
      'auth_type = trust',
      `auth_file = ${join(dir, 'users.txt')}`,
      'admin_users = postgres',
      `pool_mode = ${mode}`,
      `default_pool_size = ${poolSize}`,
      'max_client_conn = 500',
      'ignore_startup_parameters = statement_timeout,idle_in_transaction_session_timeout',
    ].join('\n'),
  );
  if (account) chownSync(dir, account.uid, account.gid);
  const child = spawn(BIN, [join(dir, 'pgbouncer.ini')], {
    stdio: ['ignore', 'ignore', 'pipe'],
    ...account,
  });
  let log = '';
  child.stderr.on('data', (chunk: Buffer) => (log += chunk.toString()));
  const exited = once(child, 'exit');
  const stopNow = () => child.kill('SIGKILL');
  process.on('exit', stopNow);
  const admin = async <T extends pg.QueryResultRow>(text: string): Promise<T[]> => {
    const client = new pg.Client({
      connectionString: `postgres://postgres@127.0.0.1:${port}/pgbouncer`,
    });
    await client.connect();
    try {
      // No parameters: the simple protocol, the only one the admin console speaks.
      return (await client.query<T>(text)).rows;
    } finally {
      await client.end();
    }
  };
  for (let attempt = 0; ; attempt++) {
    try {
      await admin('SHOW VERSION');
      break;
    } catch (error) {
      if (attempt > 100 || child.exitCode !== null)
        throw new Error(`PgBouncer did not start: ${(error as Error).message}\n${log}`, {
          cause: error,
        });
      await delay(50);
    }
  }
  return {
    via(databaseUrl) {
      const url = new URL(databaseUrl);
      url.host = `127.0.0.1:${port}`;
      return url.toString();
    },
    async transactions() {
      const rows = await admin<{ database: string; total_xact_count: string }>('SHOW STATS');
      return rows
        .filter((row) => row.database !== 'pgbouncer')
        .reduce((sum, row) => sum + Number(row.total_xact_count), 0);
    },
    async dispose() {
      process.off('exit', stopNow);
      child.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
