/**
 * What thousands of open live-position streams (GET /api/v1/queue/token/stream) cost one server
 * instance: memory per stream, CPU while the line stands still and while it moves, how fast a
 * change reaches every stream, and how long a graceful shutdown takes with them all open.
 *
 *   npx tsx bench/live-streams.ts [--streams=5000] [--backend=postgres|redis] [--interval=500]
 *
 * The server runs as its own process (src/main.ts, LOG_LEVEL=warn) on a fresh database
 * `overture_live_bench` and a Redis key prefix of its own (deleted afterwards); the streams are
 * plain HTTP/1.1 connections from this process. Numbers are printed as a Markdown table.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import pg from 'pg';

const args = new Map(
  process.argv.slice(2).map((arg) => {
    const [key, value = ''] = arg.replace(/^--/, '').split('=');
    return [key!, value];
  }),
);
const STREAMS = Number(args.get('streams') ?? 5_000);
const BACKEND = args.get('backend') ?? 'postgres';
const INTERVAL_MS = Number(args.get('interval') ?? 500);
const ADMIN_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const DATABASE = 'overture_live_bench';
const PREFIX = `overture-live-bench-${process.pid}`;
const MAX_ACTIVE = 50;

const databaseUrl = (() => {
  const url = new URL(ADMIN_URL);
  url.pathname = `/${DATABASE}`;
  return url.toString();
})();

async function recreateDatabase(): Promise<void> {
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS "${DATABASE}" WITH (FORCE)`);
  await admin.query(`CREATE DATABASE "${DATABASE}"`);
  await admin.end();
}

async function deletePrefix(): Promise<void> {
  const redis = new Redis(REDIS_URL);
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `{${PREFIX}:*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await redis.unlink(...keys);
  } while (cursor !== '0');
  redis.disconnect();
}

/** RSS (MB) and total CPU time (s) of a process, from /proc. */
function usage(pid: number): { rssMb: number; cpuSeconds: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  const ticks = Number(stat[11]) + Number(stat[12]);
  return { rssMb: rssKb / 1024, cpuSeconds: ticks / 100 };
}

/** CPU share of one core used by `pid` over `ms`. */
async function cpuOver(pid: number, ms: number): Promise<number> {
  const before = usage(pid).cpuSeconds;
  await sleep(ms);
  return (usage(pid).cpuSeconds - before) / (ms / 1000);
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 200 });

function request(
  base: URL,
  method: string,
  path: string,
  headers: Record<string, string>,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: base.hostname, port: base.port, method, path, headers, agent },
      (res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

interface Stream {
  token: string;
  events: number;
  lastData: string;
  lastAt: number;
  ended: boolean;
  close: () => void;
}

/** One SSE stream on a connection of its own (no agent: each stream holds its socket). */
function openStream(base: URL, token: string): Promise<Stream> {
  return new Promise((resolve, reject) => {
    const stream: Stream = {
      token,
      events: 0,
      lastData: '',
      lastAt: 0,
      ended: false,
      close: () => undefined,
    };
    const req = http.request(
      {
        host: base.hostname,
        port: base.port,
        path: '/api/v1/queue/token/stream',
        headers: { accept: 'text/event-stream', 'queue-token': token },
        agent: false,
      },
      (res) => {
        if (res.statusCode !== 200) reject(new Error(`stream answered ${res.statusCode}`));
        let buffer = '';
        res.on('data', (chunk: Buffer) => {
          buffer += chunk.toString();
          let end: number;
          while ((end = buffer.indexOf('\n\n')) >= 0) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            const data = /^data: (.*)$/m.exec(block)?.[1];
            if (data === undefined) continue;
            stream.events++;
            stream.lastData = data;
            stream.lastAt = performance.now();
            if (stream.events === 1) resolve(stream);
          }
        });
        res.on('end', () => (stream.ended = true));
        res.on('error', () => (stream.ended = true));
      },
    );
    req.on('error', (error) => {
      stream.ended = true;
      reject(error);
    });
    stream.close = () => req.destroy();
    req.end();
  });
}

async function inBatches<T, R>(items: T[], size: number, work: (item: T) => Promise<R>) {
  const results: R[] = [];
  for (let start = 0; start < items.length; start += size)
    results.push(...(await Promise.all(items.slice(start, start + size).map(work))));
  return results;
}

async function main(): Promise<void> {
  await recreateDatabase();
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    env: {
      ...process.env,
      NODE_ENV: 'production',
      ALLOW_CLIENT_ID_AUTH: 'true',
      PORT: '0',
      LOG_LEVEL: 'warn',
      DATABASE_URL: databaseUrl,
      SEED_DEMO_DATA: 'false',
      MAX_ACTIVE: String(MAX_ACTIVE),
      RATE_LIMIT_ENABLED: 'false',
      QUEUE_BACKEND: BACKEND,
      REDIS_URL,
      REDIS_KEY_PREFIX: PREFIX,
      SSE_INTERVAL_MS: String(INTERVAL_MS),
      DB_POOL_SIZE: '10',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const pid = child.pid!;
  const base = await new Promise<URL>((resolve, reject) => {
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /listening on (http:\/\/\S+)/.exec(output);
      if (match?.[1]) resolve(new URL(match[1]));
    });
    child.once('exit', () => reject(new Error(`server exited: ${output}`)));
  });

  try {
    const users = Array.from({ length: STREAMS + MAX_ACTIVE }, (_, i) => i + 1);
    const tokens = await inBatches(users, 100, async (user) => {
      const reply = await request(base, 'POST', '/api/v1/queue/token', {
        'client-id': String(user),
      });
      return (JSON.parse(reply.body) as { data: { token: string } }).data.token;
    });
    const active = tokens.slice(0, MAX_ACTIVE);
    const waiting = tokens.slice(MAX_ACTIVE);
    await sleep(3_000);
    const before = usage(pid);
    const cpuIdleNoStreams = await cpuOver(pid, 5_000);

    const opening = performance.now();
    const streams = await inBatches(waiting, 250, (token) => openStream(base, token));
    const openMs = performance.now() - opening;
    await sleep(5_000);
    const opened = usage(pid);
    const cpuStill = await cpuOver(pid, 10_000);
    const still = usage(pid);

    // The line moves: every second 5 shoppers leave, 5 are admitted, every stream's position falls.
    const eventsBefore = streams.reduce((sum, stream) => sum + stream.events, 0);
    const tail = streams[streams.length - 1]!;
    const lags: number[] = [];
    const moving = (async () => {
      for (let second = 0; second < 10; second++) {
        const leaving = active.splice(0, 5);
        const left = performance.now();
        const tailEvents = tail.events;
        await Promise.all(
          leaving.map((token) =>
            request(base, 'DELETE', '/api/v1/queue/token', { 'queue-token': token }),
          ),
        );
        while (tail.events === tailEvents && performance.now() - left < 5_000) await sleep(5);
        lags.push(tail.lastAt - left);
        // Those admitted are the next shoppers to leave.
        active.push(...waiting.splice(0, 5));
        await sleep(Math.max(0, 1_000 - (performance.now() - left)));
      }
    })();
    const cpuMoving = await cpuOver(pid, 10_000);
    await moving;
    const movingUsage = usage(pid);
    const eventsMoving = streams.reduce((sum, stream) => sum + stream.events, 0) - eventsBefore;
    const positions = new Set(streams.map((stream) => stream.lastData)).size;

    const stopping = performance.now();
    child.kill('SIGTERM');
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    const shutdownMs = performance.now() - stopping;
    await sleep(200);
    const endedByServer = streams.filter((stream) => stream.ended).length;
    for (const stream of streams) stream.close();

    const median = [...lags].sort((a, b) => a - b)[Math.floor(lags.length / 2)]!;
    const perStreamKb = ((opened.rssMb - before.rssMb) * 1024) / STREAMS;
    const rows: [string, string][] = [
      ['backend, streams, tick', `${BACKEND}, ${STREAMS}, ${INTERVAL_MS} ms`],
      ['opening all streams', `${(openMs / 1000).toFixed(1)} s`],
      ['server RSS before streams', `${before.rssMb.toFixed(0)} MB`],
      [
        'server RSS with all streams open',
        `${opened.rssMb.toFixed(0)} MB (+${(opened.rssMb - before.rssMb).toFixed(0)} MB, ≈${perStreamKb.toFixed(1)} KB per stream)`,
      ],
      ['server RSS after 10 s more (line still)', `${still.rssMb.toFixed(0)} MB`],
      ['CPU, no streams, line still', `${(cpuIdleNoStreams * 100).toFixed(1)} % of a core`],
      ['CPU, all streams open, line still', `${(cpuStill * 100).toFixed(1)} % of a core`],
      [
        'CPU, all streams open, line moving (5 admissions/s)',
        `${(cpuMoving * 100).toFixed(1)} % of a core`,
      ],
      ['server RSS after the moving line', `${movingUsage.rssMb.toFixed(0)} MB`],
      ['events delivered while moving (10 s)', `${eventsMoving}`],
      [
        'leave → last stream of the line sees its new position (median, max)',
        `${median.toFixed(0)} ms, ${Math.max(...lags).toFixed(0)} ms`,
      ],
      ['distinct states at the end (one per position)', `${positions}`],
      [
        'graceful shutdown with all streams open (SIGTERM → exit)',
        `${shutdownMs.toFixed(0)} ms, exit ${code}, ${endedByServer}/${STREAMS} streams ended by the server`,
      ],
    ];
    process.stdout.write(
      `\n| measure | value |\n|---|---|\n${rows.map(([k, v]) => `| ${k} | ${v} |`).join('\n')}\n`,
    );
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    agent.destroy();
    await deletePrefix();
    const admin = new pg.Client({ connectionString: ADMIN_URL });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS "${DATABASE}" WITH (FORCE)`);
    await admin.end();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(
    `${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
