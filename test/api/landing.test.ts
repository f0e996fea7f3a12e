import { beforeAll, expect, it } from 'vitest';
import { describeWithPostgres } from '../support/db.js';
import { useTestServer } from '../support/suite.js';

/** The buyers' web client at `/` (built by the test run's global setup), as HTTP sees it. */
describeWithPostgres('web client at /', () => {
  const { server } = useTestServer();
  let html: string;
  let response: Response;

  beforeAll(async () => {
    response = await fetch(`${server.url}/`);
    html = await response.text();
  });

  const references = () =>
    [...html.matchAll(/\s(?:src|href)="([^"]*)"/g)].map((match) => match[1] ?? '');

  it('is an HTML page linking the API docs and the OpenAPI document; every reference answers', async () => {
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(html).toMatch(/^<!doctype html>/);
    const links = [...html.matchAll(/\shref="([^"]+)"/g)].map((match) => match[1] ?? '');
    expect(links).toEqual(expect.arrayContaining(['./docs', './openapi.json']));
    for (const reference of references()) {
      const target = await fetch(new URL(reference, `${server.url}/`), { redirect: 'follow' });
      await target.arrayBuffer();
      expect(target.status, reference).toBe(200);
    }
    const head = await fetch(`${server.url}/`, { method: 'HEAD' });
    expect([head.status, head.headers.get('content-type')]).toEqual([
      200,
      'text/html; charset=utf-8',
    ]);
  });

  it('loads only its own files, runs no inline script, and the CSP it is sent with allows it', () => {
    // Every reference is relative (the page works behind a proxy mounting it under a path) or
    // the empty data: icon (no /favicon.ico request).
    expect(references().length).toBeGreaterThan(2);
    for (const reference of references()) expect(reference).toMatch(/^(\.\/[a-z]|data:,$)/);
    const scripts = [...html.matchAll(/<script([^>]*)>([^<]*)<\/script>/g)];
    expect(scripts.length).toBe(1);
    expect(scripts[0]?.[1]).toMatch(/type="module".*src="\.\/assets\/index-[\w-]{8}\.js"/);
    expect(scripts[0]?.[2]).toBe(''); // no inline code: script-src 'self' needs no 'unsafe-inline'
    expect(html).not.toMatch(/\son[a-z]+=/i); // no inline event handlers
    const policy = response.headers.get('content-security-policy') ?? '';
    expect(policy).toContain("default-src 'self'");
    expect(policy).toContain("script-src 'self';");
    expect(policy).toContain("script-src-attr 'none'");
  });

  it('is revalidated on every visit while its hashed assets are cached for good', async () => {
    expect(response.headers.get('cache-control')).toBe('no-cache');
    const assets = references().filter((reference) => reference.startsWith('./assets/'));
    expect(assets.map((asset) => asset.replace(/-[\w-]{8}\./, '-<hash>.')).sort()).toEqual([
      './assets/index-<hash>.css',
      './assets/index-<hash>.js',
    ]);
    for (const asset of assets) {
      const reply = await fetch(new URL(asset, `${server.url}/`));
      await reply.arrayBuffer();
      expect(reply.headers.get('cache-control'), asset).toBe('public, max-age=31536000, immutable');
    }
  });

  it('serves the operator console at /operator/, /operator redirecting there relatively', async () => {
    const bare = await fetch(`${server.url}/operator`, { redirect: 'manual' });
    // Relative: under a proxy's path prefix the browser stays under it.
    expect([bare.status, bare.headers.get('location')]).toEqual([301, 'operator/']);
    const page = await fetch(`${server.url}/operator/`);
    const body = await page.text();
    expect([page.status, page.headers.get('cache-control')]).toEqual([200, 'no-cache']);
    const assets = [...body.matchAll(/\s(?:src|href)="(\.\.\/assets\/[^"]+)"/g)].map(
      (match) => match[1] ?? '',
    );
    // Its own script and style (the buyers' page loads none of them), each answering.
    expect(assets.map((asset) => asset.replace(/-[\w-]{8}\./, '-<hash>.')).sort()).toEqual([
      '../assets/operator-<hash>.css',
      '../assets/operator-<hash>.js',
    ]);
    for (const asset of assets) {
      const reply = await fetch(new URL(asset, `${server.url}/operator/`));
      await reply.arrayBuffer();
      expect(reply.status, asset).toBe(200);
    }
  });

  it('leaves every other path to the API: an unknown one is the 404 envelope', async () => {
    const reply = await fetch(`${server.url}/no-such-page`);
    expect([reply.status, ((await reply.json()) as { code: string }).code]).toEqual([
      404,
      'NOT_FOUND',
    ]);
  });
});
