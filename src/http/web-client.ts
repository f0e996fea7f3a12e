import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { App } from '../shared/app-types.js';

/** web/dist, from src/http or dist/http alike (scripts/build-web.ts builds it). */
const root = fileURLToPath(new URL('../../web/dist/', import.meta.url));

/** Vite names built assets after their content: a new build is a new name, so keep them for good. */
const hashedAsset = /\/assets\/[^/]+-[A-Za-z0-9_-]{8}\.[a-z0-9]+$/;

/**
 * The buyers' web client at `/` (docs/decisions/0044) and the operator console at `/operator/`
 * (0055): index.html revalidated on every visit, the
 * hashed assets cached for a year. Routes are made for the files there at start (no wildcard), so
 * any other path still gets the API's 404 envelope. Encapsulated (no fastify-plugin): Swagger UI
 * registers @fastify/static in a scope of its own too. Not built (a bare `tsc` build): `/` is a 404
 * and a warning says how to build it.
 */
export async function webClient(app: App): Promise<void> {
  if (!existsSync(`${root}index.html`)) {
    app.log.warn('web client not built (web/dist): run npm run build:web; / answers 404');
    return;
  }
  await app.register(fastifyStatic, {
    root,
    wildcard: false,
    index: 'index.html',
    cacheControl: false,
    setHeaders: (reply, path) => {
      reply.header(
        'cache-control',
        hashedAsset.test(path) ? 'public, max-age=31536000, immutable' : 'no-cache',
      );
    },
  });
  // The console's page is operator/index.html: its assets are relative (../assets/), so the
  // address needs its slash. A relative redirect keeps working under a proxy's path prefix.
  app.get('/operator', { schema: { hide: true } }, (_request, reply) =>
    reply.redirect('operator/', 301),
  );
}
