import type { App } from '../shared/app-types.js';

/**
 * What `/` shows until the web client replaces it: where the API is described. One static page,
 * no script and nothing from another origin, so the CSP every reply carries lets it render.
 * Links are relative: the page works behind a proxy that mounts the service under a path.
 */
const page = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Overture</title>
<link rel="icon" type="image/png" href="./docs/static/favicon-32x32.png">
<style>
  body { font: 16px/1.5 system-ui, sans-serif; max-width: 40rem; margin: 3rem auto; padding: 0 1rem; color: #1d1d1f; }
  h1 { margin-bottom: 0.25rem; }
  .lead { margin-top: 0; color: #555; }
  li { margin: 0.4rem 0; }
  code { background: #f2f2f4; padding: 0 0.25rem; border-radius: 3px; }
</style>
</head>
<body>
<main>
<h1>Overture</h1>
<p class="lead">Concert ticketing with a virtual waiting room. This server speaks JSON over HTTP.</p>
<ul>
  <li><a href="./docs" data-testid="docs-link">API docs</a> (Swagger UI): every operation, with examples and the errors it can answer; try them in the browser.</li>
  <li><a href="./openapi.json" data-testid="openapi-link">OpenAPI document</a> (<code>/openapi.json</code>), for client generators.</li>
  <li><a href="./health/ready" data-testid="health-link">Readiness</a> (<code>/health/ready</code>).</li>
</ul>
<p>A buyer joins the line with <code>POST /api/v1/queue/token</code>, waits until ACTIVE, holds a seat and pays.
<code>npm run demo</code> walks the whole flow against this server.</p>
</main>
</body>
</html>
`;

/** GET / (and HEAD): the landing page; not part of the API, so not in the OpenAPI document. */
export function landingPage(app: App): void {
  app.get('/', { schema: { hide: true } }, (_request, reply) =>
    reply.type('text/html; charset=utf-8').send(page),
  );
}
