import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBanner } from '../../src/banner.js';
import { loadConfig } from '../../src/config.js';
import { OPERATOR_KEY_FILE, resolveOperatorKey } from '../../src/modules/auth/operator-key.js';
import { startTestServer } from '../support/server.js';

/**
 * The embedded default (docs/decisions/0032): the first start generates an operator key, keeps it
 * in the data folder (mode 0600) and prints it with a curl line; later starts reuse it.
 */
describe('the operator key of the embedded database', () => {
  let root: string;
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'overture-operator-'));
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
      // The venue tables and the append-only audit log work on PGlite too.
      const venue = await first.client.call('POST', '/api/v1/admin/venues', {
        headers: { authorization: `Bearer ${key}` },
        body: {
          name: 'Hall',
          address: 'Here',
          sections: [{ name: 'A', rows: [{ name: 'A', seats: 10 }] }],
        },
      });
      expect(venue.status).toBe(201);
      const { database } = first.container;
      if (database.kind !== 'pglite') throw new Error('expected the embedded database');
      const { pglite } = database;
      await expect(pglite.query(`DELETE FROM audit_log`)).rejects.toThrow(/append-only/);
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

  it('is printed with a curl line that works; in memory for this run only; a configured key never', async () => {
    const server = await startTestServer(undefined, {});
    try {
      const banner = startBanner({
        url: server.url,
        database: server.container.database.description,
        operatorKey: server.operatorKey,
      });
      const key = /operator key: +(\S+) +\(this run only/.exec(banner)?.[1] ?? '';
      expect(key.length).toBeGreaterThanOrEqual(32);
      const curl = `curl -H 'Authorization: Bearer ${key}' ${server.url}/api/v1/admin/venues`;
      expect(banner).toContain(`  try it:                ${curl}\n`);
      const open = await server.client.call('GET', '/api/v1/admin/venues', {
        headers: { authorization: `Bearer ${key}` },
      });
      expect([open.status, open.data]).toEqual([200, []]);
    } finally {
      await server.close();
    }
    const stored = startBanner({
      url: 'http://127.0.0.1:3000',
      database: 'PGlite (.data/pglite)',
      operatorKey: {
        source: 'file',
        key: 'k'.repeat(43),
        file: '.data/pglite/x',
        generated: false,
      },
    });
    expect(stored).toContain(`operator key:          ${'k'.repeat(43)}  (kept in .data/pglite/x)`);
    const configured = startBanner({
      url: 'http://127.0.0.1:3000',
      database: 'postgres://db/overture',
      operatorKey: { source: 'configured', key: 'secret-'.repeat(6) },
    });
    expect(configured).toContain('OPERATOR_KEY (as configured)');
    expect(configured).not.toContain('secret-');
    expect(startBanner({ url: 'x', database: 'y', operatorKey: { source: 'none' } })).toContain(
      'operator endpoints:    off (set OPERATOR_KEY',
    );
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
