import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { describeWithPostgres } from '../support/db.js';
import { parseExposition } from '../support/metrics.js';
import { describeWithPrometheus, PROMTOOL } from '../support/prometheus.js';
import { redisUrl } from '../support/redis.js';
import { useTestServer } from '../support/suite.js';

const root = new URL('../../', import.meta.url).pathname;
const rulesFile = join(root, 'ops/prometheus/alerts.yml');
const rulesTestFile = join(root, 'ops/prometheus/alerts.test.yml');
const dashboardFile = join(root, 'ops/grafana/overture.json');
const schemaFile = join(root, 'ops/grafana/dashboard.schema.json');

interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: { h: number; w: number; x: number; y: number };
  targets?: { expr: string }[];
}
const dashboard = JSON.parse(readFileSync(dashboardFile, 'utf8')) as { panels: Panel[] };
const rulesText = readFileSync(rulesFile, 'utf8');

const promtool = (...args: string[]) =>
  spawnSync(PROMTOOL, args, { encoding: 'utf8', cwd: join(root, 'ops/prometheus') });

/** Every overture_* name a PromQL text uses. */
const metricNames = (text: string) => new Set(text.match(/\boverture_[a-z0-9_]+/g) ?? []);

describeWithPrometheus('alert rules (promtool)', () => {
  it('are valid rules', () => {
    const result = promtool('check', 'rules', rulesFile);
    expect(result.status, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toContain('SUCCESS: 7 rules found');
  });

  it('pass their unit tests (5xx rate, admission stalled, dead letters, Redis down), and a wrong expectation fails them', () => {
    const result = promtool('test', 'rules', rulesTestFile);
    expect(result.status, result.stdout + result.stderr).toBe(0);
    // The same tests expecting the dead-letter alert a minute early must fail: they can fail.
    const dir = mkdtempSync(join(tmpdir(), 'overture-rules-'));
    try {
      writeFileSync(join(dir, 'alerts.yml'), rulesText);
      const wrong = readFileSync(rulesTestFile, 'utf8').replace(
        /- eval_time: 1m\n(\s+)alertname: OvertureDeadLetters\n\s+exp_alerts: \[\]/,
        '- eval_time: 1m\n$1alertname: OvertureDeadLetters\n$1exp_alerts:\n$1  - exp_labels:\n$1      severity: ticket',
      );
      expect(wrong).not.toBe(readFileSync(rulesTestFile, 'utf8'));
      writeFileSync(join(dir, 'alerts.test.yml'), wrong);
      const failed = spawnSync(PROMTOOL, ['test', 'rules', 'alerts.test.yml'], {
        encoding: 'utf8',
        cwd: dir,
      });
      expect(failed.status).not.toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('Grafana dashboard', () => {
  it('has the shape of ops/grafana/dashboard.schema.json', () => {
    const validate = new Ajv({ allErrors: true }).compile(
      JSON.parse(readFileSync(schemaFile, 'utf8')) as object,
    );
    expect(validate(dashboard), JSON.stringify(validate.errors, null, 2)).toBe(true);
    // The schema is strict enough to refuse a panel without a query.
    const broken = structuredClone(dashboard);
    delete broken.panels.find((panel) => panel.type === 'timeseries')!.targets;
    expect(validate(broken)).toBe(false);
  });

  it('gives panels unique ids and places them without overlapping', () => {
    const ids = dashboard.panels.map((panel) => panel.id);
    expect(new Set(ids).size).toBe(ids.length);
    const taken = new Map<string, string>();
    for (const { title, gridPos } of dashboard.panels) {
      expect(gridPos.x + gridPos.w, title).toBeLessThanOrEqual(24);
      for (let x = gridPos.x; x < gridPos.x + gridPos.w; x++)
        for (let y = gridPos.y; y < gridPos.y + gridPos.h; y++) {
          const cell = `${x},${y}`;
          expect(taken.get(cell), `${title} overlaps at ${cell}`).toBeUndefined();
          taken.set(cell, title);
        }
    }
  });
});

describeWithPostgres('metric names of the dashboard and the rules', () => {
  // Redis too, so the Redis metrics are there.
  const { server } = useTestServer({ QUEUE_BACKEND: 'redis', REDIS_URL: redisUrl });

  it('are all exposed by /metrics', async () => {
    // The stores' block comes once the presence session holds the reporter's lock.
    let exposed = new Set<string>();
    const deadline = Date.now() + 10_000;
    while (!exposed.has('overture_dead_letters') && Date.now() < deadline) {
      const text = await (await fetch(`${server.url}/metrics`)).text();
      parseExposition(text);
      exposed = new Set<string>();
      for (const [, name = '', type] of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
        exposed.add(name);
        if (type === 'histogram')
          for (const suffix of ['_bucket', '_sum', '_count']) exposed.add(name + suffix);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const used = new Set([
      ...metricNames(rulesText),
      ...dashboard.panels.flatMap((panel) =>
        (panel.targets ?? []).flatMap((target) => [...metricNames(target.expr)]),
      ),
    ]);
    expect(used.size).toBeGreaterThan(15);
    expect([...used].filter((name) => !exposed.has(name)).sort()).toEqual([]);
  });
});
