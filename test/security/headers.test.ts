import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestDatabase, describeWithPostgres, type TestDatabase } from '../support/db.js';
import { startTestServer } from '../support/server.js';

/** Every header helmet sets with the app's options. */
const helmetHeaders = [
  'content-security-policy',
  'cross-origin-opener-policy',
  'cross-origin-resource-policy',
  'origin-agent-cluster',
  'referrer-policy',
  'strict-transport-security',
  'x-content-type-options',
  'x-dns-prefetch-control',
  'x-download-options',
  'x-frame-options',
  'x-permitted-cross-domain-policies',
  'x-xss-protection',
];

describeWithPostgres('security headers and CORS', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('sends helmet headers on the API and on /docs, and no CORS headers unless configured', async () => {
    const server = await startTestServer(db);
    try {
      for (const path of [
        '/api/v1/reservations/concerts/popular',
        '/docs/static/index.html',
        '/nowhere',
        '/api/v1/queue/token', // an error reply (no queue token)
      ]) {
        const response = await fetch(`${server.url}${path}`, {
          headers: { origin: 'https://evil.example' },
        });
        for (const name of helmetHeaders)
          expect(response.headers.has(name), `${path} ${name}`).toBe(true);
        expect(response.headers.get('x-content-type-options'), path).toBe('nosniff');
        expect(response.headers.get('content-security-policy'), path).toContain(
          "default-src 'self'",
        );
        expect(response.headers.get('strict-transport-security'), path).toContain('max-age=');
        expect(response.headers.get('x-frame-options'), path).toBe('SAMEORIGIN');
        expect(response.headers.get('access-control-allow-origin'), path).toBeNull();
        expect(response.headers.get('x-powered-by'), path).toBeNull();
      }
    } finally {
      await server.close();
    }
  });

  it('answers CORS for the configured origins only', async () => {
    const server = await startTestServer(db, { CORS_ORIGINS: 'https://tickets.example' });
    try {
      const preflight = await fetch(`${server.url}/api/v1/queue/token`, {
        method: 'OPTIONS',
        headers: {
          origin: 'https://tickets.example',
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'client-id',
        },
      });
      expect(preflight.headers.get('access-control-allow-origin')).toBe('https://tickets.example');
      expect(preflight.headers.get('access-control-allow-headers')?.toLowerCase()).toContain(
        'queue-token',
      );
      const stranger = await fetch(`${server.url}/api/v1/reservations/concerts/popular`, {
        headers: { origin: 'https://evil.example' },
      });
      expect(stranger.headers.get('access-control-allow-origin')).toBeNull();
    } finally {
      await server.close();
    }
  });
});
