import { execFileSync, type StdioOptions } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
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

/** The fields of /proc/PID/stat after the command name (which may hold spaces), or undefined. */
function statFields(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** `pid` and every process below it (a WORKERS=N server forks its workers), from /proc. */
function processTree(pid: number): number[] {
  const parents = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    const child = Number(entry);
    const parent = Number.isInteger(child) ? Number(statFields(child)?.[1]) : NaN;
    if (Number.isInteger(parent)) parents.set(parent, [...(parents.get(parent) ?? []), child]);
  }
  const tree = [pid];
  for (let index = 0; index < tree.length; index++) tree.push(...(parents.get(tree[index]!) ?? []));
  return tree;
}

/**
 * CPU time (seconds) a process and the processes below it have used, from /proc (Linux);
 * undefined elsewhere or once it exited.
 */
export function processCpuSeconds(pid: number | undefined): number | undefined {
  const fields = pid === undefined ? undefined : statFields(pid);
  if (pid === undefined || !fields) return undefined;
  const ticks = (own: string[] | undefined) => (own ? Number(own[11]) + Number(own[12]) : 0);
  const below = processTree(pid).slice(1);
  return below.reduce((sum, child) => sum + ticks(statFields(child)), ticks(fields)) / 100;
}

/** Resident memory (MB) of a process and the processes below it. */
export function processRssMb(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  const rssKb = (member: number) => {
    try {
      const status = readFileSync(`/proc/${member}/status`, 'utf8');
      return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
    } catch {
      return undefined; // exited
    }
  };
  const own = rssKb(pid);
  if (own === undefined) return undefined;
  return (
    processTree(pid)
      .slice(1)
      .reduce((sum, child) => sum + (rssKb(child) ?? 0), own) / 1024
  );
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
