import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { OPERATOR_KEY_FILE, resolveOperatorKey } from '../../src/modules/auth/operator-key.js';
import { createClient } from '../support/client.js';
import { spawnServer, type ServerProcess } from '../support/process.js';
import { startTestServer } from '../support/server.js';

/** What the banner says about the operator key: the key and the curl line. */
async function bannerOf(server: ServerProcess): Promise<{ key: string; text: string }> {
  await expect.poll(() => server.output(), { timeout: 10_000 }).toMatch(/try it: .*\n/);
  const text = server.output();
  const key = /operator key: +(\S+)/.exec(text)?.[1] ?? '';
  return { key, text };
}

async function stop(server: ServerProcess): Promise<void> {
  server.child.kill('SIGTERM');
  await server.exited;
}

/**
 * The embedded default (docs/decisions/0032): the first start generates an operator key, keeps it
 * in the data folder (mode 0600) and prints it with a curl line; later starts reuse it.
 */
describe('the operator key of the embedded database', () => {
  let root: string;
  const servers: ServerProcess[] = [];
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'overture-operator-'));
  });
  afterEach(async () => {
    for (const server of servers.splice(0))
      if (server.child.exitCode === null && server.child.signalCode === null) await stop(server);
  });
  afterAll(() => {
    rmSync(root, { recursive: true, force: true });
  });

  it('is generated once, kept with mode 0600, and reused by the next start', async () => {
    const folder = join(root, 'pglite');
    const overrides = { PGLITE_DIR: folder, PGLITE_IN_MEMORY: 'false' };
    const file = join(folder, OPERATOR_KEY_FILE);
    const first = await startTestServer(undefined, overrides);
    expect(first.operatorKey).toMatchObject({ source: 'file', file, generated: true });
    const key = 'key' in first.operatorKey ? first.operatorKey.key : '';
    try {
      expect(key.length).toBeGreaterThanOrEqual(32);
      expect(readFileSync(file, 'utf8').trim()).toBe(key);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      const path = '/api/v1/admin/dead-letters';
      const open = await first.client.call('GET', path, {
        headers: { authorization: `Bearer ${key}` },
      });
      expect([open.status, open.code]).toEqual([200, 'SUCCESS']);
      const wrong = await first.client.call('GET', path, {
        headers: { authorization: `Bearer ${key.slice(1)}x` },
      });
      expect([wrong.status, wrong.code]).toEqual([401, 'OPERATOR_KEY_INVALID']);
      const none = await first.client.call('GET', path);
      expect([none.status, none.code]).toEqual([401, 'OPERATOR_KEY_REQUIRED']);
    } finally {
      await first.close();
    }
    chmodSync(file, 0o644);
    const second = await startTestServer(undefined, overrides);
    try {
      expect(second.operatorKey).toMatchObject({ source: 'file', key, generated: false });
      expect(statSync(file).mode & 0o777).toBe(0o600);
    } finally {
      await second.close();
    }
    writeFileSync(file, 'too-short\n');
    await expect(startTestServer(undefined, overrides)).rejects.toThrow(
      /has 9 characters, fewer than 32: delete the file/,
    );
  });

  it('is printed with a curl line by npm start; in memory for this run only', async () => {
    const memory = await spawnServer({ DATABASE_URL: '', PGLITE_IN_MEMORY: 'true' });
    servers.push(memory);
    const banner = await bannerOf(memory);
    expect(banner.key.length).toBeGreaterThanOrEqual(32);
    expect(banner.text).toContain('this run only');
    expect(banner.text).toContain(
      `curl -H 'Authorization: Bearer ${banner.key}' ${memory.url}/api/v1/admin/venues`,
    );
    const open = await createClient(memory.url).call('GET', '/api/v1/admin/dead-letters', {
      headers: { authorization: `Bearer ${banner.key}` },
    });
    expect(open.status).toBe(200);
  });

  it('a configured key is used and never printed; without one on PostgreSQL the routes are off', async () => {
    const key = 'a-configured-operator-key-of-40-characters';
    const configured = await startTestServer(undefined, { OPERATOR_KEY: key });
    try {
      expect(configured.operatorKey).toEqual({ source: 'configured', key });
    } finally {
      await configured.close();
    }
    expect(
      await resolveOperatorKey(
        loadConfig({ DATABASE_URL: 'postgres://db-host/overture', OPERATOR_KEY: '' }),
      ),
    ).toEqual({ source: 'none' });
    expect(
      await resolveOperatorKey(loadConfig({ AUTH_MODE: 'jwt', JWT_SECRET: 'x'.repeat(32) })),
    ).toEqual({ source: 'jwt' });
  });

  it('refuses a configured key shorter than 32 characters, without showing it', () => {
    expect(() => loadConfig({ OPERATOR_KEY: 'short-key' })).toThrow(
      /OPERATOR_KEY has 9 characters: expected at least 32 characters/,
    );
    expect(() => loadConfig({ OPERATOR_KEY: 'short-key' })).not.toThrow(/short-key/);
  });
});
