import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { freePort } from './process.js';
import { useRedisCluster } from './redis.js';

/** One primary of a private cluster. */
export interface ClusterPrimary {
  port: number;
  /** Kills it (SIGKILL: no goodbye to the cluster) and starts it again on the same port and dir. */
  restart(downMs?: number): Promise<void>;
}

export interface PrivateRedisCluster {
  /** REDIS_CLUSTER_NODES: `127.0.0.1:port,...` of every primary. */
  nodes: string;
  primaries: ClusterPrimary[];
  /** Resolves once every node reports cluster_state:ok (after a restart, say). */
  healthy(timeoutMs?: number): Promise<void>;
  /** Stops every node and removes the folder. */
  dispose(): Promise<void>;
}

const cli = (port: number, ...args: string[]) =>
  spawnSync('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], { encoding: 'utf8' });

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A Redis Cluster of the test's own: `size` primaries (no replicas) from `redis-server
 * --cluster-enabled yes` on free 127.0.0.1 ports, each in its own folder under one temp dir (its
 * nodes.conf keeps its identity and slots across a restart), slots spread by `redis-cli --cluster
 * create`. Nothing is persisted but the cluster's configuration. Killed when this process exits.
 */
export async function startPrivateRedisCluster(size = 3): Promise<PrivateRedisCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'overture-redis-cluster-'));
  const children = new Map<number, ChildProcess>();
  const killAll = () => {
    for (const child of children.values()) child.kill('SIGKILL');
  };
  process.on('exit', killAll);

  const ports: { port: number; bus: number }[] = [];
  for (let i = 0; i < size; i++) ports.push({ port: await freePort(), bus: await freePort() });

  const start = async ({ port, bus }: { port: number; bus: number }) => {
    const home = join(dir, String(port));
    mkdirSync(home, { recursive: true });
    const child = spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--cluster-port',
        String(bus),
        '--bind',
        '127.0.0.1',
        '--cluster-enabled',
        'yes',
        '--cluster-config-file',
        'nodes.conf',
        '--cluster-node-timeout',
        '1000',
        '--save',
        '',
        '--appendonly',
        'no',
        '--dir',
        home,
      ],
      { stdio: 'ignore' },
    );
    children.set(port, child);
    const deadline = Date.now() + 10_000;
    while (cli(port, 'PING').stdout.trim() !== 'PONG') {
      if (child.exitCode !== null) throw new Error(`redis-server on port ${port} exited`);
      if (Date.now() > deadline) throw new Error(`redis-server on port ${port} did not start`);
      await sleep(50);
    }
  };
  const kill = async (port: number) => {
    const child = children.get(port);
    children.delete(port);
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
  };
  const healthy = async (timeoutMs = 20_000) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const states = ports.map(({ port }) => cli(port, 'CLUSTER', 'INFO').stdout);
      if (states.every((info) => info.includes('cluster_state:ok'))) return;
      if (Date.now() > deadline) throw new Error(`the cluster is not ok: ${states.join(' | ')}`);
      await sleep(100);
    }
  };

  await Promise.all(ports.map(start));
  const created = spawnSync(
    'redis-cli',
    [
      '--cluster',
      'create',
      ...ports.map(({ port }) => `127.0.0.1:${port}`),
      '--cluster-replicas',
      '0',
      '--cluster-yes',
    ],
    { encoding: 'utf8' },
  );
  if (created.status !== 0) throw new Error(`redis-cli --cluster create: ${created.stdout}`);
  await healthy();

  return {
    nodes: ports.map(({ port }) => `127.0.0.1:${port}`).join(','),
    primaries: ports.map((entry) => ({
      port: entry.port,
      async restart(downMs = 0) {
        await kill(entry.port);
        await sleep(downMs);
        await start(entry);
      },
    })),
    healthy,
    async dispose() {
      await Promise.all(ports.map(({ port }) => kill(port)));
      process.off('exit', killAll);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Whether redis-server and redis-cli can start a cluster here (CI requires it: .ci/run). */
export const clusterToolsInstalled =
  spawnSync('redis-server', ['--version']).status === 0 &&
  spawnSync('redis-cli', ['--version']).status === 0;
if (!clusterToolsInstalled) {
  const message = 'redis-server/redis-cli are not installed: the Redis Cluster tests cannot run';
  if (process.env.CI === 'true' || process.env.REQUIRE_SERVICES === '1')
    throw new Error(`${message}, and CI=true/REQUIRE_SERVICES=1 requires them.`);
  process.stderr.write(`\n!!! ${message}; those tests are SKIPPED.\n\n`);
}

/**
 * A private cluster for the calling suite (started before its tests, disposed after), with the
 * test Redis helpers (connectTestRedis, the harnesses) pointed at it meanwhile.
 */
export function usePrivateRedisCluster(): () => PrivateRedisCluster {
  let cluster: PrivateRedisCluster | undefined;
  beforeAll(async () => {
    cluster = await startPrivateRedisCluster();
    useRedisCluster(cluster.nodes);
  });
  afterAll(async () => {
    useRedisCluster('');
    await cluster?.dispose();
  });
  return () => {
    if (!cluster) throw new Error('the private Redis Cluster has not started');
    return cluster;
  };
}
