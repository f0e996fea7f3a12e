import { execFile, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { describe } from 'vitest';
import { alive, freePort } from './process.js';

const BIN = '/usr/lib/postgresql/15/bin';
const run = promisify(execFile);
const required = () => process.env.CI === 'true' || process.env.REQUIRE_SERVICES === '1';

const installed = existsSync(join(BIN, 'initdb')) && existsSync(join(BIN, 'pg_ctl'));
if (!installed) {
  const message = `PostgreSQL 15's initdb/pg_ctl are not in ${BIN}: fault tests cannot start a private PostgreSQL`;
  if (required()) throw new Error(`${message}, and CI=true/REQUIRE_SERVICES=1 requires it.`);
  process.stderr.write(`\n!!! ${message}; those tests are SKIPPED.\n\n`);
}

/** `describe` for fault tests that start, stop or cut a PostgreSQL of their own. */
export const describeWithPostgresServer = describe.skipIf(!installed);

export interface PrivatePostgres {
  /** The superuser `postgres` on database `postgres` (trust authentication, no password). */
  adminUrl: string;
  /** The URL of a database on this server. */
  url(database: string): string;
  /** Creates an empty database and returns its URL. */
  createDatabase(name: string): Promise<string>;
  /**
   * Terminates every client backend connected to `database` (pg_terminate_backend, what a
   * failover or an operator does); returns how many were terminated.
   */
  terminateBackends(database: string): Promise<number>;
  /** Stops the server: `fast` rolls back open transactions and closes cleanly; `immediate` is a crash. */
  stop(mode?: 'fast' | 'immediate'): Promise<void>;
  /** Starts it again on the same port with the same data. */
  start(): Promise<void>;
  /** Stops it for good and removes its folder. */
  dispose(): Promise<void>;
}

/**
 * initdb and the server (and PgBouncer) refuse to run as root: as root, they run as the
 * `postgres` account.
 */
export function runAs(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const id = (flag: string) => spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' });
  const uid = id('-u');
  const gid = id('-g');
  if (uid.status !== 0 || gid.status !== 0)
    throw new Error('running as root, and there is no `postgres` account to run PostgreSQL as');
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

const FOLDER_PREFIX = 'overture-pg-';

/** Servers left by test processes that died without their exit handler (kill -9): stopped, removed. */
function removeLeftovers(): void {
  for (const name of readdirSync(tmpdir())) {
    const owner = Number(new RegExp(`^${FOLDER_PREFIX}([0-9]+)-`).exec(name)?.[1]);
    if (!(owner > 0) || alive(owner)) continue;
    const dir = join(tmpdir(), name);
    if (existsSync(join(dir, 'data', 'postmaster.pid')))
      spawnSync(join(BIN, 'pg_ctl'), ['stop', '-D', join(dir, 'data'), '-m', 'immediate'], {
        stdio: 'ignore',
        ...runAs(),
      });
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * A PostgreSQL 15 server of the test's own (initdb + pg_ctl into a temp folder, a free 127.0.0.1
 * port, trust authentication, no fsync): to stop, crash or cut at will without touching the
 * machine's shared server, which other tests use. Stopped when this process exits.
 */
export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  removeLeftovers();
  const account = runAs();
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), `${FOLDER_PREFIX}${process.pid}-`));
  if (account) chownSync(dir, account.uid, account.gid);
  const data = join(dir, 'data');
  const options = { ...account, cwd: dir };
  await run(
    join(BIN, 'initdb'),
    ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--no-sync'],
    options,
  );
  const serverOptions = [
    `-p ${port}`,
    "-c listen_addresses='127.0.0.1'",
    "-c unix_socket_directories=''",
    '-c fsync=off',
    '-c synchronous_commit=off',
    '-c full_page_writes=off',
  ].join(' ');
  const pgCtl = (args: string[]) => run(join(BIN, 'pg_ctl'), ['-D', data, ...args], options);

  const stopNow = () => {
    if (existsSync(join(data, 'postmaster.pid')))
      spawnSync(join(BIN, 'pg_ctl'), ['-D', data, 'stop', '-m', 'immediate'], {
        stdio: 'ignore',
        ...account,
      });
    rmSync(dir, { recursive: true, force: true });
  };
  process.on('exit', stopNow);

  const start = async () => {
    await pgCtl(['start', '-w', '-t', '30', '-l', join(dir, 'server.log'), '-o', serverOptions]);
  };
  const stop = async (mode: 'fast' | 'immediate' = 'fast') => {
    if (existsSync(join(data, 'postmaster.pid'))) await pgCtl(['stop', '-w', '-m', mode]);
  };
  const adminUrl = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const admin = async <T>(work: (client: pg.Client) => Promise<T>): Promise<T> => {
    const client = new pg.Client({ connectionString: adminUrl });
    await client.connect();
    try {
      return await work(client);
    } finally {
      await client.end();
    }
  };
  try {
    await start();
  } catch (error) {
    const log = existsSync(join(dir, 'server.log'))
      ? readFileSync(join(dir, 'server.log'), 'utf8')
      : '';
    stopNow();
    process.off('exit', stopNow);
    throw new Error(`private PostgreSQL did not start: ${(error as Error).message}\n${log}`, {
      cause: error,
    });
  }
  const url = (database: string) => `postgres://postgres@127.0.0.1:${port}/${database}`;
  return {
    adminUrl,
    url,
    async createDatabase(name) {
      await admin((client) => client.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`));
      return url(name);
    },
    terminateBackends: (database) =>
      admin(async (client) => {
        const { rows } = await client.query<{ n: number }>(
          `SELECT count(*) FILTER (WHERE pg_terminate_backend(pid))::int AS n FROM pg_stat_activity
           WHERE datname = $1 AND backend_type = 'client backend' AND pid <> pg_backend_pid()`,
          [database],
        );
        return rows[0]?.n ?? 0;
      }),
    start,
    stop,
    async dispose() {
      await stop('immediate');
      process.off('exit', stopNow);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
