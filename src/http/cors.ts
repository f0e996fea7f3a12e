import cors from '@fastify/cors';
import fp from 'fastify-plugin';
import type { Config } from '../config.js';
import type { App } from '../shared/app-types.js';

/** CORS for the origins CORS_ORIGINS lists (none: no CORS headers at all). */
export const corsOrigins = fp(
  async (app: App, { config }: { config: Pick<Config, 'CORS_ORIGINS'> }) => {
    if (config.CORS_ORIGINS === '') return;
    const origins = config.CORS_ORIGINS.split(',').map((origin) => origin.trim());
    await app.register(cors, {
      origin: origins.includes('*') ? true : origins,
      allowedHeaders: [
        'Content-Type',
        'Authorization',
        'Client-Id',
        'Queue-Token',
        'Idempotency-Key',
        'X-Request-Id',
      ],
      exposedHeaders: ['Retry-After', 'X-Request-Id'],
      methods: ['GET', 'POST', 'DELETE'],
    });
  },
);
