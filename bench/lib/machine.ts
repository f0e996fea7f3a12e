import { execFileSync, type StdioOptions } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { Redis } from 'ioredis';
import type pg from 'pg';

export interface Machine {
  cpus: number;
  cpuModel: string;
  memoryGiB: number;
  os: string;
  node: string;
  postgres: string;
  redis: string;
  pgbench: string;
  /** 1-minute load average when the run started: other work on the machine skews every number. */
  loadAverageAtStart: number;
}

export interface GitState {
  commit: string;
  /** Uncommitted changes in the work tree when the run started. */
  dirty: boolean;
}

/** The first line a command prints, or `failed` when it cannot run. */
function run(command: string, args: string[], cwd?: string, failed = 'unknown'): string {
  try {
    const stdio: StdioOptions = ['ignore', 'pipe', 'ignore'];
    return execFileSync(command, args, { cwd, encoding: 'utf8', stdio }).trim().split('\n')[0]!;
  } catch {
    return failed;
  }
}

export function gitState(root: string): GitState {
  const changed = run('git', ['status', '--porcelain', '--untracked-files=no'], root, '');
  return { commit: run('git', ['rev-parse', 'HEAD'], root), dirty: changed !== '' };
}

/** `work` with a short-lived Redis client; `failed` when Redis cannot be reached or `work` throws. */
export async function withRedis<T>(url: string, work: (client: Redis) => Promise<T>, failed: T) {
  const client = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 1,
    connectTimeout: 2000,
  });
  try {
    await client.connect();
    return await work(client);
  } catch {
    return failed;
  } finally {
    client.disconnect();
  }
}

export async function describeMachine(admin: pg.Pool, redisUrl: string): Promise<Machine> {
  const cpus = os.cpus();
  const postgres = await admin
    .query<{ server_version: string }>('SHOW server_version')
    .then((result) => result.rows[0]?.server_version ?? 'unknown')
    .catch(() => 'not reachable');
  return {
    cpus: cpus.length,
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    os: `${os.type()} ${os.release()} (${os.arch()})`,
    node: process.version,
    postgres,
    redis: await withRedis(
      redisUrl,
      async (client) => /redis_version:(\S+)/.exec(await client.info('server'))?.[1] ?? 'unknown',
      'not reachable',
    ),
    pgbench: run('pgbench', ['--version']),
    loadAverageAtStart: Math.round(os.loadavg()[0]! * 100) / 100,
  };
}

/** CPU time (seconds) a process has used, from /proc (Linux); undefined elsewhere or once it exited. */
export function processCpuSeconds(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return ticks / 100;
  } catch {
    return undefined;
  }
}

/** Resident memory (MB) of a process, from /proc (Linux); undefined elsewhere or once it exited. */
export function processRssMb(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
  } catch {
    return undefined;
  }
}

/** Busy and total jiffies of the whole machine, for "how busy were both cores" over a window. */
export function machineCpuTicks(): { busy: number; total: number } {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
    const values = line.trim().split(/\s+/).slice(1).map(Number);
    const total = values.reduce((sum, value) => sum + value, 0);
    const idle = (values[3] ?? 0) + (values[4] ?? 0);
    return { busy: total - idle, total };
  } catch {
    return { busy: 0, total: 0 };
  }
}
