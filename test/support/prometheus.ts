import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe } from 'vitest';
import { freePort } from './process.js';

/** Debian's `prometheus` package (CI installs it: .ci/run). */
export const PROMETHEUS = '/usr/bin/prometheus';
export const PROMTOOL = '/usr/bin/promtool';

const required = () => process.env.CI === 'true' || process.env.REQUIRE_SERVICES === '1';
const installed = spawnSync(PROMTOOL, ['--version'], { encoding: 'utf8' }).status === 0;
if (!installed) {
  const message = `${PROMTOOL} is not installed (Debian's prometheus package)`;
  if (required()) throw new Error(`${message}, and CI=true/REQUIRE_SERVICES=1 requires it.`);
  process.stderr.write(`\n!!! ${message}: the Prometheus tests are SKIPPED.\n\n`);
}

/** `describe` for tests that run Prometheus or promtool. */
export const describeWithPrometheus = describe.skipIf(!installed);

export interface PrivatePrometheus {
  url: string;
  /** The instant vector of a PromQL query: each series' labels and value. */
  query(promql: string): Promise<{ metric: Record<string, string>; value: number }[]>;
  /** Stops the server and removes its folder. */
  dispose(): Promise<void>;
}

/**
 * A Prometheus of the test's own: a free 127.0.0.1 port, a temporary data folder, scraping
 * `targets` (host:port) as job "overture" every `scrapeSeconds`. Never the machine's.
 */
export async function startPrometheus(
  targets: string[],
  scrapeSeconds = 1,
): Promise<PrivatePrometheus> {
  const dir = mkdtempSync(join(tmpdir(), 'overture-prometheus-'));
  const port = await freePort();
  const configFile = join(dir, 'prometheus.yml');
  writeFileSync(
    configFile,
    [
      'global:',
      `  scrape_interval: ${scrapeSeconds}s`,
      `  scrape_timeout: ${scrapeSeconds}s`,
      'scrape_configs:',
      '  - job_name: overture',
      '    static_configs:',
      `      - targets: [${targets.map((target) => `'${target}'`).join(', ')}]`,
      '',
    ].join('\n'),
  );
  const child = spawn(
    PROMETHEUS,
    [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let output = '';
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = once(child, 'exit');
  const url = `http://127.0.0.1:${port}`;
  const dispose = async () => {
    if (child.exitCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 30_000;
  for (;;) {
    const ready = await fetch(`${url}/-/ready`).then(
      (response) => response.ok,
      () => false,
    );
    if (ready) break;
    if (child.exitCode !== null || Date.now() > deadline) {
      await dispose();
      throw new Error(`prometheus did not start: ${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    url,
    async query(promql) {
      const response = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(promql)}`);
      const body = (await response.json()) as {
        status: string;
        error?: string;
        data?: {
          resultType: string;
          result: { metric: Record<string, string>; value: [number, string] }[];
        };
      };
      if (body.status !== 'success' || body.data?.resultType !== 'vector')
        throw new Error(`${promql}: ${body.error ?? JSON.stringify(body)}`);
      return body.data.result.map((entry) => ({
        metric: entry.metric,
        value: Number(entry.value[1]),
      }));
    },
    dispose,
  };
}
