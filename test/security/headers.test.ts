import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { expect, it } from 'vitest';
import { describeWithPostgres } from '../support/db.js';
import { startTestServer } from '../support/server.js';
import { useTestDatabase } from '../support/suite.js';

/** Every header helmet sets with the app's options, over plain HTTP (HSTS only behind TLS). */
const helmetHeaders = [
  'content-security-policy',
  'cross-origin-opener-policy',
  'cross-origin-resource-policy',
  'origin-agent-cluster',
  'referrer-policy',
  'x-content-type-options',
  'x-dns-prefetch-control',
  'x-download-options',
  'x-frame-options',
  'x-permitted-cross-domain-policies',
  'x-xss-protection',
];

/** The API, Swagger UI's page and assets, a 404 and an error reply. */
const pages = [
  '/api/v1/reservations/concerts/popular',
  '/docs/',
  '/docs/static/index.html',
  '/docs/static/swagger-ui-bundle.js',
  '/nowhere',
  '/api/v1/queue/token', // an error reply (no queue token)
];

/** A self-signed certificate for 127.0.0.1, made by openssl in a temporary folder. */
function selfSignedCertificate(): { key: string; cert: string } {
  const folder = mkdtempSync(join(tmpdir(), 'overture-tls-'));
  try {
    const made = spawnSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
        '-keyout',
        join(folder, 'key.pem'),
        '-out',
        join(folder, 'cert.pem'),
      ],
      { encoding: 'utf8' },
    );
    if (made.status !== 0) throw new Error(`openssl failed: ${made.stderr}`);
    return {
      key: readFileSync(join(folder, 'key.pem'), 'utf8'),
      cert: readFileSync(join(folder, 'cert.pem'), 'utf8'),
    };
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}

describeWithPostgres('security headers and CORS', () => {
  const db = useTestDatabase();

  it('sends helmet headers on the API and on /docs, and no CORS headers unless configured', async () => {
    const server = await startTestServer(db);
    try {
      for (const path of pages) {
        const response = await fetch(`${server.url}${path}`, {
          headers: { origin: 'https://evil.example' },
        });
        await response.arrayBuffer();
        for (const name of helmetHeaders)
          expect(response.headers.has(name), `${path} ${name}`).toBe(true);
        expect(response.headers.get('x-content-type-options'), path).toBe('nosniff');
        expect(response.headers.get('content-security-policy'), path).toContain(
          "default-src 'self'",
        );
        expect(response.headers.get('x-frame-options'), path).toBe('SAMEORIGIN');
        expect(response.headers.get('access-control-allow-origin'), path).toBeNull();
        expect(response.headers.get('x-powered-by'), path).toBeNull();
      }
    } finally {
      await server.close();
    }
  });

  it('sends no upgrade-insecure-requests and no HSTS over plain HTTP, on any host name', async () => {
    const server = await startTestServer(db);
    try {
      for (const path of pages) {
        // As a browser on another machine asks: by the server's address, not loopback's name.
        const response = await fetch(`${server.url}${path}`, {
          headers: { host: `192.0.2.1:${new URL(server.url).port}` },
        });
        await response.arrayBuffer();
        const policy = response.headers.get('content-security-policy') ?? '';
        expect(policy, path).toContain("default-src 'self'");
        expect(policy, path).toContain("script-src 'self'");
        expect(policy, path).not.toContain('upgrade-insecure-requests');
        expect(response.headers.has('strict-transport-security'), path).toBe(false);
      }
    } finally {
      await server.close();
    }
  });

  it('sends upgrade-insecure-requests and HSTS behind TLS', async () => {
    const server = await startTestServer(db);
    // The same app behind a TLS socket of its own: request.protocol is https there.
    const certificate = selfSignedCertificate();
    const tls = createServer(certificate, (req, res) => server.app.routing(req, res));
    const dispatcher = new Agent({ connect: { ca: certificate.cert } });
    await new Promise<void>((resolve) => tls.listen(0, '127.0.0.1', resolve));
    const { port } = tls.address() as AddressInfo;
    try {
      for (const path of pages) {
        const response = await request(`https://127.0.0.1:${port}${path}`, { dispatcher });
        await response.body.arrayBuffer();
        const policy = String(response.headers['content-security-policy']);
        expect(policy, path).toContain("default-src 'self'");
        expect(policy, path).toContain('upgrade-insecure-requests');
        expect(String(response.headers['strict-transport-security']), path).toMatch(
          /^max-age=\d+; includeSubDomains$/,
        );
      }
    } finally {
      await dispatcher.close();
      tls.closeAllConnections();
      await new Promise((resolve) => tls.close(resolve));
      await server.close();
    }
  });

  it('behind a trusted TLS proxy (X-Forwarded-Proto: https) sends them; a client cannot claim TLS itself', async () => {
    const behindProxy = await startTestServer(db, { TRUST_PROXY: '127.0.0.1' });
    const direct = await startTestServer(db);
    try {
      const viaProxy = await fetch(`${behindProxy.url}/docs`, {
        headers: { 'x-forwarded-proto': 'https' },
      });
      await viaProxy.arrayBuffer();
      expect(viaProxy.headers.get('content-security-policy')).toContain(
        'upgrade-insecure-requests',
      );
      expect(viaProxy.headers.has('strict-transport-security')).toBe(true);
      // TRUST_PROXY off: the same header from a client changes nothing.
      const spoofed = await fetch(`${direct.url}/docs`, {
        headers: { 'x-forwarded-proto': 'https' },
      });
      await spoofed.arrayBuffer();
      expect(spoofed.headers.get('content-security-policy')).not.toContain(
        'upgrade-insecure-requests',
      );
      expect(spoofed.headers.has('strict-transport-security')).toBe(false);
    } finally {
      await behindProxy.close();
      await direct.close();
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
