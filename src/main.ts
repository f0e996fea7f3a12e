import { startTracingIfConfigured } from './tracing/start.js';

/*
 * The entry (npm start, npm run serve). Tracing has to hook the module loaders before fastify,
 * pg and ioredis load, which in ESM is before the service's static imports are even linked: so
 * the service is imported only once tracing is started (docs/decisions/0045).
 */
await startTracingIfConfigured();
await import('./service.js');
