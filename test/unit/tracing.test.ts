import { trace } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { isProbePath } from '../../src/tracing/sdk.js';
import { startTracingIfConfigured } from '../../src/tracing/start.js';

describe('tracing start', () => {
  it('starts nothing without OTEL_EXPORTER_OTLP_ENDPOINT (blank counts as unset)', async () => {
    expect(await startTracingIfConfigured({})).toBe(false);
    expect(await startTracingIfConfigured({ OTEL_EXPORTER_OTLP_ENDPOINT: '  ' })).toBe(false);
    // No tracer provider was registered: the API's spans are the non-recording no-ops.
    expect(trace.getTracer('t').startSpan('s').isRecording()).toBe(false);
  });

  it('leaves probes and scrapes untraced, and only them', () => {
    for (const url of ['/health/live', '/health/ready', '/health/ready?x=1', '/metrics'])
      expect(isProbePath(url), url).toBe(true);
    for (const url of ['/api/v1/reservations', '/api/v1/queue/token', '/healthy', '/metricsx'])
      expect(isProbePath(url), url).toBe(false);
  });
});
