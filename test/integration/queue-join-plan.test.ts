import { expect, it } from 'vitest';
import type { CompiledStatement } from '../../src/db/client.js';
import { joinBatch } from '../../src/modules/queue/queue.join.postgres.js';
import { describeWithPostgres } from '../support/db.js';
import { useTestDatabase } from '../support/suite.js';

interface PlanNode {
  'Node Type': string;
  'Index Name'?: string;
  'Index Cond'?: string;
  Plans?: PlanNode[];
}

const nodesOf = (node: PlanNode): PlanNode[] => [node, ...(node.Plans ?? []).flatMap(nodesOf)];

/**
 * Proves: a join batch checks each user's live token by one index probe on (room_id, user_id),
 * even on a line the statistics have never seen (a fresh table, as at a sale's start and in every
 * bench run). Planned as an anti-join there, the probe used room_id alone and read the room's
 * whole line once per user, so batches slowed as the line grew (decision 0012). Fails if the
 * probe is ever planned without user_id in its index condition.
 */
describeWithPostgres('the join batch plan', () => {
  const db = useTestDatabase();

  it('probes the live-user index by room and user for every user, on a table never analyzed', async () => {
    await db.pool.query(
      `INSERT INTO queue_tokens (token, room_id, user_id, status, arrival)
       SELECT 'plan-' || n, 0, n, 'WAITING', n FROM generate_series(1, 20000) AS n`,
    );
    let statement: CompiledStatement | undefined;
    const capture = {
      run: <T>(compiled: CompiledStatement): Promise<T[]> => {
        statement = compiled;
        return Promise.resolve([]);
      },
    };
    const users = Array.from({ length: 100 }, (_, index) => 1_000_000 + index);
    await joinBatch(capture, 0, users, new Map());
    expect(statement).toBeDefined();

    const { rows } = await db.pool.query<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>(
      `EXPLAIN (FORMAT JSON) ${statement!.text}`,
      statement!.values,
    );
    const probes = nodesOf(rows[0]!['QUERY PLAN'][0].Plan).filter(
      (node) => node['Index Name'] === 'queue_tokens_live_user_key',
    );
    expect(probes.length).toBeGreaterThan(0);
    for (const probe of probes) expect(probe['Index Cond']).toMatch(/user_id/);
  });
});
