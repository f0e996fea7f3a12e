/**
 * The machine's ceiling for the benchmark: Fastify, with the same pino logger level the real
 * server runs at, answering every path with a fixed envelope and doing nothing else (no
 * validation, no database). POST answers 201 like joining the queue or winning a hold.
 */
import Fastify from 'fastify';
import pino from 'pino';

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
