/**
 * The machine's ceiling for the benchmark: Fastify, with the same pino logger level the real
 * server runs at, answering every path with a fixed envelope and doing nothing else (no
 * validation, no database). POST answers 201 like joining the queue or winning a hold.
 * BARE_WORKERS=N runs N such processes sharing the port through node:cluster, as WORKERS=N runs
 * the service (src/cluster.ts), so a scale-out is compared with the ceiling at the same N.
 */
import cluster from 'node:cluster';
import Fastify from 'fastify';
import pino from 'pino';

const workers = Number(process.env.BARE_WORKERS ?? 1);

if (workers > 1 && cluster.isPrimary) {
  for (let index = 0; index < workers; index++) cluster.fork();
  const stop = () => {
    for (const worker of Object.values(cluster.workers ?? {})) worker?.kill('SIGTERM');
    cluster.disconnect(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
} else {
  const body = { code: 'SUCCESS', message: 'OK', data: null };
  const app = Fastify({ loggerInstance: pino({ level: 'warn' }), forceCloseConnections: true });
  app.all('/*', (request, reply) => reply.status(request.method === 'POST' ? 201 : 200).send(body));

  const port = Number(process.env.PORT ?? 0);
  // The same accept queue as the service (src/server.ts), so both meet a burst of connects alike.
  await app.listen({ port, host: '127.0.0.1', backlog: 4096 });

  const close = () => {
    void app.close().then(() => process.exit(0));
  };
  process.once('SIGTERM', close);
  process.once('SIGINT', close);
}
