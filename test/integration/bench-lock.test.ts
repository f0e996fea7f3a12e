import { expect, it } from 'vitest';
import { takeBenchLock } from '../../bench/lib/postgres.js';
import { runCommand } from '../support/command.js';
import { describeWithPostgres } from '../support/db.js';
import { useTestDatabase } from '../support/suite.js';

/*
 * Every bench run drops and recreates the same overture_bench_* databases and empties the same
 * Redis database, so two at once break each other. The lock is an advisory lock, scoped to the
 * database the bench's admin connection uses: pointing BENCH_POSTGRES_URL at this file's own
 * database keeps the test from meeting (or blocking) a real bench on the machine.
 */
describeWithPostgres('one bench at a time', () => {
  const db = useTestDatabase();

  it('refuses a second run while one holds the lock, before touching Redis, and frees it at the end', async () => {
    const first = await takeBenchLock(db.url);
    expect(first).toBeDefined();
    expect(await takeBenchLock(db.url)).toBeUndefined();

    // Nothing listens on port 1: a run that went past the lock would build, probe and fail on
    // Redis instead of refusing at once with this sentence.
    const run = await runCommand(
      'bench/run.ts',
      ['--quick'],
      { BENCH_POSTGRES_URL: db.url, BENCH_REDIS_URL: 'redis://127.0.0.1:1/0' },
      { timeoutMs: 60_000 },
    );
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`another run is using ${new URL(db.url).host}`);
    expect(run.stderr).toContain('wait for it to end');

    await first!.release();
    const second = await takeBenchLock(db.url);
    expect(second).toBeDefined();
    await second!.release();
  });
});
