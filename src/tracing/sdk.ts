import type { IncomingMessage } from 'node:http';
import { register } from 'node:module';
import { FastifyOtelInstrumentation } from '@fastify/otel';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { IORedisInstrumentation } from '@opentelemetry/instrumentation-ioredis';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { createAddHookMessageChannel } from 'import-in-the-middle';

/** Probes and scrapes, every few seconds from the orchestrator and Prometheus: not traced. */
export const isProbePath = (url: string): boolean =>
  /^\/(health(\/\w+)?|metrics)\/?(\?|$)/.test(url);
const isProbe = (request: IncomingMessage): boolean => isProbePath(request.url ?? '');

/**
 * Starts the OpenTelemetry SDK: spans of incoming HTTP (node:http, and Fastify's routes and
 * hooks through @fastify/otel), of PostgreSQL queries (pg), of Redis commands (ioredis) and of
 * outgoing fetch calls (undici: the data-platform send, which then carries traceparent), batched
 * and exported over OTLP. Endpoint, protocol (http/protobuf by default, http/json, grpc), service
 * name, sampler and batching come from the standard OTEL_* variables, which the SDK reads itself.
 * The Kafka client has no maintained instrumentation: the event buses carry the trace context
 * by hand (src/shared/tracing.ts).
 */
export async function startTracing(): Promise<() => Promise<void>> {
  // The ESM loader hook intercepts only the modules an instrumentation asked for; Node 20 and 24
  // both run it off-thread through module.register, and the wait below makes sure the hook knows
  // them all before main.ts's imports load.
  const { registerOptions, waitForAllMessagesAcknowledged } = createAddHookMessageChannel();
  register('import-in-the-middle/hook.mjs', import.meta.url, registerOptions);
  const sdk = new NodeSDK({
    serviceName: process.env.OTEL_SERVICE_NAME?.trim() || 'overture',
    instrumentations: [
      new HttpInstrumentation({ ignoreIncomingRequestHook: isProbe }),
      // The route's request and handler spans; a span per lifecycle hook (six on a plain route)
      // cost more than they told (docs/decisions/0045).
      new FastifyOtelInstrumentation({
        registerOnInitialization: true,
        instrumentHooks: false,
        ignorePaths: (route) => isProbePath(route.url),
      }),
      // Queries and commands of a request or an event, not the workers' polls: a trace each
      // would bury the ones that matter.
      new PgInstrumentation({ requireParentSpan: true }),
      new IORedisInstrumentation({ requireParentSpan: true }),
      new UndiciInstrumentation(),
    ],
  });
  sdk.start();
  await waitForAllMessagesAcknowledged();
  return () => sdk.shutdown();
}
