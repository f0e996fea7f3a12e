import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { STACK_LINE, runCommand } from '../support/command.js';
import { describeWithPostgres } from '../support/db.js';
import { useTestDatabase } from '../support/suite.js';

/**
 * The commands a newcomer runs, as processes: a mistake gets one message saying what is wrong
 * and what to do, and never a stack trace.
 */
const TOKEN = 'src/cli/token.ts';
const DEAD_LETTERS = 'src/cli/dead-letters.ts';
const MIGRATE = 'src/cli/migrate.ts';
const SERVER = 'src/main.ts';
/** Never the developer's own embedded database. */
const safe = { PGLITE_IN_MEMORY: 'true' };

describe('npm run token', () => {
  it('without a key says which variable to set and how to make a secret', async () => {
    const result = await runCommand(TOKEN, ['1001'], safe);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('set JWT_SECRET');
    expect(result.stderr).toContain('openssl rand -hex 32');
    expect(result.stderr).not.toMatch(STACK_LINE);
  });

  it('with RS256 names JWT_PRIVATE_KEY_FILE, unset or unreadable', async () => {
    const unset = await runCommand(TOKEN, ['1001'], { ...safe, JWT_ALGORITHM: 'RS256' });
    expect([unset.code, unset.stderr]).toEqual([
      1,
      expect.stringContaining('JWT_PRIVATE_KEY_FILE'),
    ]);
    const missing = await runCommand(TOKEN, ['1001'], {
      ...safe,
      JWT_ALGORITHM: 'ES256',
      JWT_PRIVATE_KEY_FILE: '/nonexistent/key.pem',
    });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(
      'JWT_PRIVATE_KEY_FILE=/nonexistent/key.pem cannot be read (ENOENT)',
    );
    for (const result of [unset, missing]) expect(result.stderr).not.toMatch(STACK_LINE);
  });

  it('with a bad user id prints the usage (exit 2), and with a key prints a JWT', async () => {
    const usage = await runCommand(TOKEN, ['me'], safe);
    expect([usage.code, usage.stderr]).toEqual([2, expect.stringMatching(/^usage: npm run token/)]);
    const minted = await runCommand(TOKEN, ['1001', '--admin'], {
      ...safe,
      JWT_SECRET: 'x'.repeat(32),
    });
    expect(minted.code).toBe(0);
    expect(minted.stdout).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/);
  });
});

describe('npm run dead-letters', () => {
  it('replay with an event id that is not a UUID says what ids look like (exit 2)', async () => {
    const result = await runCommand(DEAD_LETTERS, ['replay', 'data-platform', '42'], safe);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('"42" is not an event id: event ids are UUIDs');
    expect(result.stderr).not.toMatch(STACK_LINE);
  });

  it('replay for an unknown consumer lists the consumers there are (exit 2)', async () => {
    const result = await runCommand(
      DEAD_LETTERS,
      ['replay', 'data-platfrom', '3f0a8c4e-5b1d-4d7e-9a2b-6c8e1f4a7b90'],
      safe,
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      'No consumer is named "data-platfrom"; the consumers are ranking, token-expiry, data-platform.',
    );
    expect(result.stderr).not.toMatch(STACK_LINE);
  });

  it('against a database it cannot reach says to check DATABASE_URL', async () => {
    const result = await runCommand(DEAD_LETTERS, ['list'], {
      DATABASE_URL: `postgres://postgres@127.0.0.1:${await closedPort()}/overture`,
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /^Cannot use the database postgres:\/\/127\.0\.0\.1:\d+\/overture \(connect ECONNREFUSED [^)]+\): check DATABASE_URL\.\n$/,
    );
  });
});

describeWithPostgres('npm run dead-letters on a database', () => {
  const db = useTestDatabase();

  it('replay of what is not a dead letter says so and how to list them (exit 1)', async () => {
    const result = await runCommand(
      DEAD_LETTERS,
      ['replay', 'ranking', '3f0a8c4e-5b1d-4d7e-9a2b-6c8e1f4a7b90'],
      { DATABASE_URL: db.url },
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      'Nothing to replay: ranking 3f0a8c4e-5b1d-4d7e-9a2b-6c8e1f4a7b90',
    );
    expect(result.stderr).toContain('npm run dead-letters -- list');
    expect(result.stderr).not.toMatch(STACK_LINE);
    const list = await runCommand(DEAD_LETTERS, ['list'], { DATABASE_URL: db.url });
    expect([list.code, list.stdout]).toEqual([0, 'no dead letters\n']);
  });
});

describe('a bad configuration', () => {
  it.each([TOKEN, DEAD_LETTERS, MIGRATE, SERVER])(
    '%s names the variable, the value given and what is allowed',
    async (script) => {
      const args = script === TOKEN ? ['1001'] : script === DEAD_LETTERS ? ['list'] : [];
      const result = await runCommand(script, args, {
        ...safe,
        PORT: '80a',
        QUEUE_BACKEND: 'kafka',
      });
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(
        'PORT="80a" is not allowed: expected a whole number from 0 to 65535',
      );
      expect(result.stderr).toContain(
        'QUEUE_BACKEND="kafka" is not allowed: expected one of postgres, redis, stream',
      );
      expect(result.stderr).toContain('See the configuration table in README.md.');
      expect(result.stderr).not.toMatch(STACK_LINE);
    },
  );
});

describe('npm start', () => {
  it('on a port another process holds says so and how to pick another, without a stack', async () => {
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const { port } = holder.address() as AddressInfo;
    try {
      const result = await runCommand(SERVER, [], {
        ...safe,
        PORT: String(port),
        LOG_LEVEL: 'warn',
        SEED_DEMO_DATA: 'false',
      });
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(
        `Overture failed to start: port ${port} is taken by another process: stop it, or choose another with PORT`,
      );
      expect(result.stderr).not.toMatch(STACK_LINE);
    } finally {
      await new Promise((resolve) => holder.close(resolve));
    }
  });
});

/** A port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
