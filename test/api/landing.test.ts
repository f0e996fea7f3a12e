import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestDatabase, describeWithPostgres, type TestDatabase } from '../support/db.js';
import { startTestServer, type TestServer } from '../support/server.js';

describeWithPostgres('landing page at /', () => {
  let db: TestDatabase;
  let server: TestServer;

  beforeAll(async () => {
    db = await createTestDatabase();
    server = await startTestServer(db);
  });
  afterAll(async () => {
    await server?.close();
    await db?.drop();
  });

  it('is an HTML page linking the API docs and the OpenAPI document; every link answers', async () => {
    const response = await fetch(`${server.url}/`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const html = await response.text();
    expect(html).toMatch(/^<!doctype html>/);
    const links = [...html.matchAll(/\shref="([^"]+)"/g)].map((match) => match[1] ?? '');
    expect(links).toEqual(expect.arrayContaining(['./docs', './openapi.json']));
    for (const link of links) {
      const target = await fetch(new URL(link, `${server.url}/`), { redirect: 'follow' });
      await target.arrayBuffer();
      expect(target.status, link).toBe(200);
    }
    const head = await fetch(`${server.url}/`, { method: 'HEAD' });
    expect([head.status, head.headers.get('content-type')]).toEqual([
      200,
      'text/html; charset=utf-8',
    ]);
  });

  it('loads nothing from elsewhere and runs no script, so the CSP it is sent with lets it render', async () => {
    const response = await fetch(`${server.url}/`);
    const html = await response.text();
    expect(html).not.toMatch(/<script|<img|<iframe|@import|url\(/i);
    const references = [...html.matchAll(/\s(?:src|href)="([^"]*)"/g)].map((match) => match[1]);
    expect(references.length).toBeGreaterThan(0);
    for (const reference of references) expect(reference).toMatch(/^\.\/[a-z]/);
    expect(html).not.toMatch(/\son[a-z]+=/i); // no inline event handlers
    const policy = response.headers.get('content-security-policy') ?? '';
    expect(policy).toContain("default-src 'self'");
    // The page's one <style> element needs inline styles.
    expect(policy).toContain("style-src 'self' 'unsafe-inline'");
  });
});
