import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { Api } from './http.js';
import { processCpuSeconds, processRssMb } from './machine.js';

export const projectRoot = path.resolve(import.meta.dirname, '../..');

/** Every child this run started, so an interrupted run leaves nothing behind. */
const children = new Set<ChildProcess>();

export function trackChild(child: ChildProcess): void {
  children.add(child);
  child.once('exit', () => children.delete(child));
}

export function killAllChildren(): void {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === 'object') resolve(address.port);
        else reject(new Error('no port'));
      });
    });
  });
}

/** A server child failed before it was ready; `reason` is what it printed (a config error, say). */
export class ServerStartError extends Error {
  override name = 'ServerStartError';
  constructor(
    message: string,
    readonly reason: string,
    readonly exitCode: number | null,
  ) {
    super(message);
  }
}

export interface LogDigest {
  warnings: number;
  errors: number;
  /** The first distinct error/fatal messages, for the report. */
  samples: string[];
}

export interface ServerProcess {
  label: string;
  url: string;
  cpuSeconds(): number | undefined;
  rssMb(): number | undefined;
  logs(): LogDigest;
  /** SIGTERM, wait for the graceful exit (SIGKILL after 20 s); resolves with the exit code. */
  stop(): Promise<number | null>;
  /** kill -9, as a crash would; resolves once the process is gone. */
  kill(): Promise<void>;
}

/** Environment a server child gets: nothing from the shell that could change the measured code. */
function baseEnvironment(): Record<string, string> {
  const keep = ['PATH', 'HOME', 'LANG', 'TZ', 'TMPDIR'];
  return Object.fromEntries(
    keep.flatMap((key) => (process.env[key] === undefined ? [] : [[key, process.env[key]]])),
  );
}

function watchOutput(child: ChildProcess) {
  const lines: string[] = [];
  const digest: LogDigest = { warnings: 0, errors: 0, samples: [] };
  const onLine = (line: string) => {
    lines.push(line);
    if (lines.length > 60) lines.shift();
    if (!line.startsWith('{')) return;
    try {
      const entry = JSON.parse(line) as {
        level?: number;
        msg?: string;
        code?: string;
        err?: { message?: string };
      };
      const level = entry.level ?? 0;
      if (level >= 50) {
        digest.errors++;
        const text = [entry.msg, entry.code, entry.err?.message].filter(Boolean).join(': ');
        if (digest.samples.length < 5 && !digest.samples.includes(text)) digest.samples.push(text);
      } else if (level >= 40) digest.warnings++;
    } catch {
      // not a log line
    }
  };
  for (const stream of [child.stdout, child.stderr])
    if (stream) createInterface({ input: stream }).on('line', onLine);
  return { lines, digest };
}

async function waitUntilReady(
  child: ChildProcess,
  url: string,
  readyPath: string,
  output: { lines: string[] },
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited: number | null | undefined;
  child.once('exit', (code) => (exited = code));
  while (Date.now() < deadline) {
    if (exited !== undefined) {
      await sleep(50); // let the last output arrive
      const reason = output.lines
        .filter((line) => line.trim() !== '')
        .slice(-6)
        .join('\n');
      throw new ServerStartError(
        `server exited with code ${exited} before it was ready`,
        reason || `exit code ${exited}`,
        exited,
      );
    }
    try {
      const response = await fetch(`${url}${readyPath}`, { signal: AbortSignal.timeout(1000) });
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  child.kill('SIGKILL');
  throw new ServerStartError(
    `server not ready after ${timeoutMs} ms`,
    output.lines.slice(-6).join('\n'),
    null,
  );
}

export interface OvertureOptions {
  label: string;
  databaseUrl: string;
  env?: Record<string, string>;
  /** Directory for --cpu-prof output; no profiling when undefined. */
  cpuProfileDir?: string;
  /** Run `src/main.ts` through tsx instead of the compiled `dist/main.js` (no build needed). */
  fromSource?: boolean;
}

/** Starts `node ...args` on a free port and resolves once its /health/ready answers 200. */
async function launch(
  label: string,
  args: string[],
  env: Record<string, string>,
  readyTimeoutMs: number,
): Promise<ServerProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, args, {
    cwd: projectRoot,
    env: { ...baseEnvironment(), NODE_ENV: 'production', PORT: String(port), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  trackChild(child);
  const output = watchOutput(child);
  const url = `http://127.0.0.1:${port}`;
  await waitUntilReady(child, url, '/health/ready', output, readyTimeoutMs);
  let exitCode: number | null | undefined;
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve((exitCode = code))),
  );
  const running = () => exitCode === undefined;
  return {
    label,
    url,
    cpuSeconds: () => (running() ? processCpuSeconds(child.pid) : undefined),
    rssMb: () => (running() ? processRssMb(child.pid) : undefined),
    logs: () => ({ ...output.digest, samples: [...output.digest.samples] }),
    async stop() {
      if (!running()) return exitCode ?? null;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
    async kill() {
      if (!running()) return;
      child.kill('SIGKILL');
      await exited;
    },
  };
}

/** Node's --cpu-prof arguments for a server labelled `label` (none without a directory). */
function profileArgs(label: string, directory: string | undefined): string[] {
  if (directory === undefined) return [];
  mkdirSync(directory, { recursive: true });
  const name = `${label.replace(/[^a-z0-9-]+/gi, '_')}-${Date.now()}.cpuprofile`;
  return ['--cpu-prof', `--cpu-prof-dir=${directory}`, `--cpu-prof-name=${name}`];
}

/**
 * Starts the compiled server (`node dist/main.js`, or its source) as production would run it: NODE_ENV=production,
 * LOG_LEVEL=warn, on 127.0.0.1 and a free port. Resolves once /health/ready answers 200.
 */
export async function startOverture(options: OvertureOptions): Promise<ServerProcess> {
  const args = profileArgs(options.label, options.cpuProfileDir);
  const env = {
    LOG_LEVEL: 'warn',
    HOST: '127.0.0.1',
    DATABASE_URL: options.databaseUrl,
    ...options.env,
  };
  const main = options.fromSource === true ? ['--import', 'tsx', 'src/main.ts'] : ['dist/main.js'];
  const server = await launch(options.label, [...args, ...main], env, 60_000);
  if (options.env?.QUEUE_BACKEND === 'stream') {
    try {
      await untilJoinsArePlaced(server.url, 60_000);
    } catch (error) {
      await server.stop();
      throw error;
    }
  }
  return server;
}

/** A Client-Id no scenario uses: the probe of untilJoinsArePlaced. */
const PROBE_USER = Number.MAX_SAFE_INTEGER;

/**
 * QUEUE_BACKEND=stream: ready is not yet placing joins — the instance's Kafka consumer joins its
 * group in the background (3 s for a new group on the mock, longer after a restart), and joins
 * meanwhile answer their provisional place (docs/decisions/0011). Scenarios measure the steady
 * state, so wait until a probe join is placed (ACTIVE in the empty room), then let it leave.
 */
async function untilJoinsArePlaced(url: string, timeoutMs: number): Promise<void> {
  const api = new Api(url, 1);
  const deadline = Date.now() + timeoutMs;
  try {
    for (;;) {
      const joined = (await api.enter(PROBE_USER)).body.data;
      if (joined?.token !== undefined) await api.leave(joined.token);
      if (joined?.status === 'ACTIVE') return;
      if (Date.now() > deadline)
        throw new Error(`stream mode: joins not placed ${timeoutMs} ms after the server was ready`);
      await sleep(250);
    }
  } finally {
    await api.close();
  }
}

/** The ceiling: a Fastify route that does nothing, in a process of its own (or `workers`). */
export const startBare = (workers = 1): Promise<ServerProcess> =>
  launch(
    workers === 1 ? 'bare' : `bare-${workers}-workers`,
    ['--import', 'tsx', 'bench/workers/bare-route.ts'],
    { BARE_WORKERS: String(workers) },
    30_000,
  );

/**
 * The redis mode's floor (bench/workers/floor-route.ts): Fastify + ioredis running the service's
 * join script on `redisUrl`, nothing else. It runs through tsx, whose loader thread writes a
 * profile of its own: profiles go to a folder of their own by thread, and at stop the main
 * thread's (thread id 0) is moved beside the others.
 */
export async function startFloor(redisUrl: string, cpuProfileDir?: string): Promise<ServerProcess> {
  const threads =
    cpuProfileDir === undefined ? undefined : path.join(cpuProfileDir, 'floor-threads');
  if (threads !== undefined) mkdirSync(threads, { recursive: true });
  const args = threads === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${threads}`];
  const floor = await launch(
    'floor',
    [...args, '--import', 'tsx', 'bench/workers/floor-route.ts'],
    { REDIS_URL: redisUrl },
    30_000,
  );
  if (threads === undefined || cpuProfileDir === undefined) return floor;
  return {
    ...floor,
    async stop() {
      const code = await floor.stop();
      const main = readdirSync(threads).find((name) => /\.0\.\d+\.cpuprofile$/.test(name));
      if (main !== undefined)
        renameSync(
          path.join(threads, main),
          path.join(cpuProfileDir, `floor-${Date.now()}.cpuprofile`),
        );
      rmSync(threads, { recursive: true, force: true });
      return code;
    },
  };
}
