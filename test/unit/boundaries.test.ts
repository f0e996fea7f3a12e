import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

/*
 * The module boundaries are lint rules (eslint.config.js, docs/decisions/0029): this proves the
 * project's own config reports a stray import, and leaves the allowed ones alone. Only the
 * boundary rule runs, without type information, so each case lints in milliseconds.
 */
const eslint = new ESLint({
  cwd: process.cwd(),
  ruleFilter: ({ ruleId }) => ruleId === 'no-restricted-imports',
  overrideConfig: { languageOptions: { parserOptions: { projectService: false } } },
});

/** The boundary messages for `source` imported from `filePath` (an existing file, any content). */
async function refusals(filePath: string, source: string): Promise<string[]> {
  const [result] = await eslint.lintText(`import type {} from '${source}';\n`, { filePath });
  return result!.messages.map((message) => `${message.ruleId}: ${message.message}`);
}

describe('module boundaries in npm run check', () => {
  it('refuses a module importing another module’s adapter', async () => {
    const messages = await refusals(
      'src/modules/holds/holds.service.ts',
      '../queue/queue.store.postgres.js',
    );
    expect(messages.length).toBeGreaterThan(0);
    expect(messages.join('\n')).toContain('Only src/container.ts imports adapters');
    expect(messages.join('\n')).toContain('public surface');
    expect(
      await refusals('src/modules/concerts/concerts.service.ts', '../events/bus.redis.claimer.js'),
    ).not.toEqual([]);
    // The deliveries' PostgreSQL adapter is an adapter like the others (its port is public).
    expect(
      await refusals('src/modules/admin/admin.routes.ts', '../events/deliveries.store.postgres.js'),
    ).not.toEqual([]);
    expect(
      await refusals('src/modules/admin/admin.routes.ts', '../events/deliveries.store.js'),
    ).toEqual([]);
    // An adapter reaching for another module's adapter is refused too.
    expect(
      await refusals(
        'src/modules/holds/holds.store.postgres.ts',
        '../queue/queue.rows.postgres.js',
      ),
    ).not.toEqual([]);
  });

  it('refuses an adapter import anywhere but src/container.ts, even inside its own module', async () => {
    for (const [file, source] of [
      ['src/app.ts', './modules/balance/balance.store.postgres.js'],
      ['src/workers/delivery.worker.ts', '../modules/events/bus.kafka.js'],
      ['src/modules/queue/queue.service.ts', './queue.store.redis.js'],
      ['src/modules/holds/holds.service.ts', './seat-gate.memory.js'],
      ['src/workers/delivery.worker.ts', '../modules/events/deliveries.store.postgres.js'],
    ]) {
      const messages = await refusals(file!, source!);
      expect(messages, `${file} → ${source}`).toHaveLength(1);
      expect(messages[0]).toContain('Only src/container.ts imports adapters');
    }
  });

  it('refuses a module importing another module’s private files or the composition', async () => {
    for (const source of [
      '../queue/queue.rules.js',
      '../holds/seat-gate.js',
      '../events/retry.policy.js',
      '../../workers/outbox.relay.js',
      '../../container.js',
    ]) {
      expect(
        await refusals('src/modules/reservations/reservations.service.ts', source),
        source,
      ).not.toEqual([]);
    }
  });

  it('allows the public surfaces, a module’s own files, shared code and the container’s adapters', async () => {
    for (const [file, source] of [
      ['src/modules/holds/holds.service.ts', '../queue/queue.service.js'],
      ['src/modules/holds/holds.service.ts', '../queue/queue.store.js'],
      ['src/modules/holds/holds.store.postgres.ts', '../queue/queue.booking.js'],
      ['src/modules/reservations/reservations.store.ts', '../holds/holds.store.js'],
      ['src/modules/health/health.routes.ts', '../events/events.js'],
      ['src/modules/balance/balance.routes.ts', '../auth/guards.js'],
      ['src/modules/concerts/concerts.service.ts', '../ranking/ranking.mirror.js'],
      ['src/modules/holds/holds.service.ts', './holds.rules.js'],
      ['src/modules/holds/holds.service.ts', '../../shared/errors.js'],
      ['src/modules/queue/queue.store.stream.ts', './queue.store.redis.js'],
      ['src/modules/events/bus.redis.ts', './bus.redis.claimer.js'],
      ['src/container.ts', './modules/queue/queue.store.postgres.js'],
      ['src/workers/outbox.relay.ts', '../modules/events/events.js'],
    ]) {
      expect(await refusals(file!, source!), `${file} → ${source}`).toEqual([]);
    }
  });

  it('leaves tests and the bench free to import adapters', async () => {
    expect(
      await refusals(
        'test/unit/holds.service.test.ts',
        '../../src/modules/queue/queue.store.redis.js',
      ),
    ).toEqual([]);
    expect(
      await refusals(
        'bench/workers/queue-stream.ts',
        '../../src/modules/queue/queue.store.stream.js',
      ),
    ).toEqual([]);
  });
});
