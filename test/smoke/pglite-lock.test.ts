import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/client.js';
import { DataFolderInUseError, lockDataFolder } from '../../src/db/pglite-lock.js';
import { createClient } from '../support/client.js';
import { spawnServer, type ServerProcess } from '../support/process.js';

/** A stack trace line, which no refusal may print. */
const STACK_LINE = /\n\s+at /;

/** Runs a command of package.json (its script, through tsx) on the folder; its exit and output. */
async function runCommand(script: string, args: string[], env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
    env: { ...process.env, DATABASE_URL: '', PGLITE_IN_MEMORY: 'false', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, output };
}

/** Starts lock contenders that all try at the same instant; what each printed. */
async function contend(folder: string, count: number, holdMs: number): Promise<string[]> {
  const startAt = Date.now() + 3_000;
  return Promise.all(
    Array.from({ length: count }, async () => {
      const { code, output } = await runCommand(
        'test/support/lock-contender.ts',
        [folder, String(startAt), String(holdMs)],
        {},
      );
      expect(code, output).toBe(0);
      return output.trim();
    }),
  );
}

/**
 * The embedded database folder belongs to one process at a time (issue 12, item 2). Two servers
 * on one PGlite folder sold one seat twice and lost a payment; `npm run migrate` beside a server
 * dumped PGlite internals. Proves: a second opener — in this process, a second server, either
 * command — is refused with one paragraph naming the holder (pid, what, since) and what to do,
 * without a stack trace; a lock left by kill -9 is taken over at once by a restart that keeps the
 * data; of many processes racing for such a lock exactly one gets it; a clean stop releases it.
 */
describe('the embedded database folder lock', () => {
  let root: string;
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'overture-lock-'));
  });
  afterAll(() => {
    rmSync(root, { recursive: true, force: true });
  });

  it('refuses a second opener in the same process, naming it, until the first releases', async () => {
    const folder = join(root, 'same-process');
    mkdirSync(folder);
    const lock = lockDataFolder(folder, { holder: 'the first opener' });
    expect(() => lockDataFolder(folder, { holder: 'the second opener' })).toThrow(
      DataFolderInUseError,
    );
    expect(() =>
      openDatabase({ url: '', poolSize: 1, pgliteDir: folder, pgliteInMemory: false }),
    ).toThrow(new RegExp(`in use by the first opener \\(pid ${process.pid}, since `));
    lock.release();
    const database = openDatabase({
      url: '',
      poolSize: 1,
      pgliteDir: folder,
      pgliteInMemory: false,
    });
    await database.close();
    lockDataFolder(folder, { holder: 'again' }).release();
  });

  describe('between processes', () => {
    const folder = () => join(root, 'server');
    const env = () => ({ DATABASE_URL: '', PGLITE_IN_MEMORY: 'false', PGLITE_DIR: folder() });
    const servers: ServerProcess[] = [];
    afterEach(async () => {
      for (const server of servers.splice(0)) {
        if (server.child.exitCode !== null || server.child.signalCode !== null) continue;
        server.child.kill('SIGKILL');
        await server.exited;
      }
    });

    it('refuses a second server and both commands while a server runs; kill -9, then a restart takes over with the data', async () => {
      const first = await spawnServer(env());
      servers.push(first);
      const pid = first.child.pid!;
      const refusal = new RegExp(
        `in use by the Overture server \\(pid ${pid}, since [0-9T:.-]+Z\\)\\. .*GET /api/v1/admin/dead-letters`,
      );

      const second = await spawnServer(env()).then(
        (server) => {
          servers.push(server);
          return 'started';
        },
        (error: unknown) => (error as Error).message,
      );
      expect(second).toMatch(/server exited/);
      expect(second).toMatch(refusal);
      expect(second).not.toMatch(STACK_LINE);

      for (const [script, args] of [
        ['src/cli/migrate.ts', []],
        ['src/cli/dead-letters.ts', ['list']],
      ] as const) {
        const { code, output } = await runCommand(script, [...args], env());
        expect(code, output).toBe(1);
        expect(output).toMatch(refusal);
        expect(output).not.toMatch(STACK_LINE);
      }

      // The first server is untouched by the refusals.
      const client = createClient(first.url);
      expect((await client.charge(7, 12_345)).status).toBe(200);

      first.child.kill('SIGKILL');
      await first.exited;
      // The dead holder's lock is taken over at once: the opener never waits on a lock (it takes
      // over a dead holder's or refuses a live one's), so the restart's start is the proof.
      const restarted = await spawnServer(env());
      servers.push(restarted);
      expect((await createClient(restarted.url).balance(7)).data.balance).toBe(12_345);
    });

    it('releases the lock on a clean stop, so a command can open the folder', async () => {
      const server = await spawnServer(env());
      servers.push(server);
      expect(existsSync(`${folder()}.lock`)).toBe(true);
      server.child.kill('SIGTERM');
      expect(await server.exited).toBe(0);
      expect(existsSync(`${folder()}.lock`)).toBe(false);
      const { code, output } = await runCommand('src/cli/migrate.ts', [], env());
      expect([code, output]).toEqual([0, expect.stringMatching(/migrations applied/)]);
    });
  });

  it('of six processes racing for a lock left by kill -9, exactly one gets it', async () => {
    const folder = join(root, 'race');
    mkdirSync(folder);
    const holder = spawn(
      process.execPath,
      ['--import', 'tsx', 'test/support/lock-contender.ts', folder, '0', '600000'],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const [acquired] = (await once(holder.stdout, 'data')) as [Buffer];
    expect(acquired.toString()).toBe('acquired\n');
    holder.kill('SIGKILL');
    await once(holder, 'exit');
    expect(existsSync(`${folder}.lock`)).toBe(true);

    // Each winner holds the lock well past the others' attempts, so a second winner would be a
    // second holder at the same time, not a successor.
    const outcomes = await contend(folder, 6, 5_000);
    expect(outcomes.filter((outcome) => outcome === 'acquired')).toHaveLength(1);
    expect(outcomes.filter((outcome) => outcome === 'refused')).toHaveLength(5);
    // The winner released on exit; the dead holder's lock was moved aside, not reused.
    expect(existsSync(`${folder}.lock`)).toBe(false);
    expect(readdirSync(root).filter((name) => name.startsWith('race.lock.stale-'))).toHaveLength(1);
  });
});
