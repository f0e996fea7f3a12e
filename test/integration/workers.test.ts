import { execFileSync } from 'node:child_process';
import http from 'node:http';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestDatabase, describeWithPostgres, type TestDatabase } from '../support/db.js';
import { parseExposition, valueOf } from '../support/metrics.js';
import { spawnServer, type ServerProcess } from '../support/process.js';

/** The server processes the primary forked, by pid (not the esbuild service tsx starts). */
const children = (pid: number): number[] => {
  try {
    return execFileSync('pgrep', ['-P', String(pid), '-f', 'main.ts'], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean)
      .map(Number);
  } catch {
    return []; // pgrep exits 1 when there is none
  }
};

/** One request on a connection of its own, so node:cluster hands each to the next process. */
const getOnce = (url: string) =>
  new Promise<{ status: number; body: string }>((resolve, reject) => {
    http
      .get(url, { agent: false }, (response) => {
        let body = '';
        response.on('data', (chunk: Buffer) => (body += chunk.toString()));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
      })
      .on('error', reject)
      .setTimeout(5_000, function (this: http.ClientRequest) {
        this.destroy(new Error(`no answer from ${url} within 5 s`));
      });
  });

const liveCount = (metrics: string) =>
  Number(
    /overture_http_request_duration_seconds_count\{method="GET",route="\/health\/live",status="200"\} (\d+)/.exec(
      metrics,
    )?.[1] ?? 0,
  );

/**
 * WORKERS=2 (issue 17 item 5): one primary and two server processes sharing the port. Proves:
 * both serve (each holds its own presence session); /metrics, whichever process answers it,
 * adds up the requests of both; a process killed with SIGKILL is replaced while the other goes on
 * answering; SIGTERM stops everything with exit 0.
 */
describeWithPostgres('WORKERS=2 on one port', () => {
  let db: TestDatabase;
  let server: ServerProcess;

  beforeAll(async () => {
    db = await createTestDatabase();
    server = await spawnServer({ DATABASE_URL: db.url, SEED_DEMO_DATA: 'false', WORKERS: '2' });
  }, 60_000);
  afterAll(async () => {
    for (const pid of children(server.child.pid!)) process.kill(pid, 'SIGKILL');
    server?.child.kill('SIGKILL');
    await db?.drop();
  });

  const presences = async () =>
    (
      await db.pool.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_stat_activity
         WHERE datname = current_database() AND application_name = 'overture-presence'`,
      )
    ).rows[0]!.n;

  it('serves from two processes and adds up their metrics', async () => {
    expect(children(server.child.pid!)).toHaveLength(2);
    await expect.poll(presences, { timeout: 10_000 }).toBe(2);
    const before = liveCount((await getOnce(`${server.url}/metrics`)).body);
    for (let i = 0; i < 30; i++)
      expect((await getOnce(`${server.url}/health/live`)).status).toBe(200);
    // Each process saw about half; only the sum over both makes 30.
    const after = (await getOnce(`${server.url}/metrics`)).body;
    expect(liveCount(after) - before).toBe(30);
    // The pool gauges keep their label through the sum: one series per pool, not per process.
    const samples = parseExposition(after);
    for (const pool of ['main', 'batches'])
      expect(valueOf(samples, 'overture_db_pool_waiting_requests', { pool }), pool).toBe(0);
  });

  it('replaces a killed process while the other keeps answering', async () => {
    const [victim, survivor] = children(server.child.pid!);
    process.kill(victim!, 'SIGKILL');
    // A connection the primary hands over in the instant the process dies is lost with it, as
    // any request in flight on a crashed process is; once the primary saw it go, none is.
    await expect
      .poll(() => server.output().includes('a server process died'), { timeout: 5_000 })
      .toBe(true);
    for (let i = 0; i < 20; i++)
      expect((await getOnce(`${server.url}/health/live`)).status).toBe(200);
    await expect
      .poll(() => children(server.child.pid!).filter((pid) => pid !== victim), { timeout: 15_000 })
      .toHaveLength(2);
    expect(children(server.child.pid!)).toContain(survivor);
    await expect.poll(presences, { timeout: 15_000 }).toBe(2);
    expect([server.child.exitCode, server.child.signalCode]).toEqual([null, null]);
  });

  it('stops every process on SIGTERM and exits 0', async () => {
    const pids = children(server.child.pid!);
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
    for (const pid of pids) expect(() => process.kill(pid, 0)).toThrow();
  });
});
