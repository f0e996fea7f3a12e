/** Rewrites docs/benchmarks.md from the latest full run. */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { reportBody } from './report.js';
import type { BenchReport } from './results.js';
import { projectRoot } from './server.js';

const introduction = `# Benchmarks

This page is written by \`npm run bench\` after each full run; do not edit it by hand.

## How to run

\`\`\`sh
npm run bench                 # full run, about 17 minutes for the three modes; rewrites this page
npm run bench -- --quick      # 1–3 minutes: the smoke run CI does (reports, never fails on speed)
npm run bench -- --only=storm,purchase --modes=postgres
npm run bench -- --cpu-prof   # also write a CPU profile of every server process
\`\`\`

It needs the machine's PostgreSQL (\`BENCH_POSTGRES_URL\`, default \`postgres://postgres@127.0.0.1:5432/postgres\`) and
Redis (\`BENCH_REDIS_URL\`, default logical database 11, which the bench empties). The stream mode runs against
\`BENCH_KAFKA_BROKERS\` when set, else against a Kafka mock cluster the bench starts fresh for the run
(\`tools/kafka-mock\`, built from Debian's librdkafka-dev). Every run writes \`bench/results/<time>.json\` (raw numbers, git
commit, machine), a markdown report and a chart beside it.

## What it measures

- **Seed load test** — the seed's k6 test as it ran it: \`POST /api/v1/queue/token\` at an open-loop arrival rate of
  0 → 1,667 requests/s in 10 s, held 30 s, → 0 in 20 s, at most 1000 in flight, each request from a random user
  among 1000; and a variant where every request is a new user. Latency counts from each request's due time, so a
  server that stalls cannot hide the queue behind it (no coordinated omission). Seed thresholds: p90 < 1 s,
  p95 < 1 s, max < 2 s, failures < 1%.
- **Capacity** — the same call in a closed loop (autocannon) at 100 and 1000 connections, for each mode and for a
  bare Fastify route that does nothing: the ceiling of this machine, measured in the same run.
- **Position polling** — a long line of WAITING users polling their position; positions are re-read afterwards
  to check they are distinct and inside the line. SSE streams are held open when the build has an SSE endpoint.
- **Hot-seat storm** — N users with ACTIVE tokens hold the same seat at the same instant: exactly one may win.
  Drain rate against the bare route under the same burst, and PostgreSQL transactions per storm.
- **Full purchase flow** — thousands of users join, wait, get admitted, list, hold, charge and pay; afterwards the
  database is checked for oversell, double charges and ledgers that differ from balances. Beside it, pgbench runs
  the payment's own statements to show PostgreSQL's rate for them, and counting proxies show the PostgreSQL
  round trips and Redis commands each request makes.
- **Scale-out** — the seed test and the capacity run on 1 and 2 server processes (redis mode).

## Latest full run
`;

export function writeDocs(report: BenchReport, chartPath: string | undefined): void {
  const docs = path.join(projectRoot, 'docs/benchmarks.md');
  const chart = chartPath === undefined ? undefined : path.relative(path.dirname(docs), chartPath);
  writeFileSync(docs, `${introduction}\n${reportBody(report, chart)}\n`);
}
