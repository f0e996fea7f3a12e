import {
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  context,
  propagation,
  trace,
  type Attributes,
} from '@opentelemetry/api';

/*
 * The trace of a change, carried past the transaction that made it: the payment's request writes
 * its W3C traceparent into the outbox row, the relay and every bus carry it with the event, and
 * the consumers (and the data-platform send through them) continue that trace, so one trace shows
 * the whole path. Only the OpenTelemetry API here: without the SDK (OTEL_EXPORTER_OTLP_ENDPOINT
 * unset, src/tracing/preload.ts) the propagator injects nothing, so no context is written, and
 * the spans below are the API's non-recording no-ops.
 */

const tracer = trace.getTracer('overture');

/** The active span's W3C traceparent, or null when nothing is traced. */
export function activeTraceContext(): string | null {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return carrier.traceparent ?? null;
}

/** The headers a message carries its trace context in (W3C Trace Context); empty when none. */
export function traceHeaders(traceContext: string | null | undefined): Record<string, string> {
  return traceContext ? { traceparent: traceContext } : {};
}

/**
 * Runs `work` in a span that continues the trace `traceContext` names (a new trace when it names
 * none), ended when the work settles and marked as an error when it throws.
 */
export async function inTracedSpan<T>(
  name: string,
  traceContext: string | null | undefined,
  options: { kind: SpanKind; attributes?: Attributes },
  work: () => Promise<T>,
): Promise<T> {
  const parent = traceContext
    ? propagation.extract(ROOT_CONTEXT, { traceparent: traceContext })
    : ROOT_CONTEXT;
  return tracer.startActiveSpan(name, options, parent, async (span) => {
    try {
      return await work();
    } catch (error) {
      span.recordException(error as Error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
      throw error;
    } finally {
      span.end();
    }
  });
}

/**
 * Publishes a batch with each message's trace continued by a producer span of its own: the
 * messages handed to `publish` carry that span as their parent, so a consumer's span follows the
 * publish in the trace. The spans end when the publish settles.
 */
export async function publishTraced<M extends { traceContext?: string | null }>(
  name: string,
  messages: M[],
  attributes: (message: M) => Attributes,
  publish: (messages: M[]) => Promise<void>,
): Promise<void> {
  const spans = messages.map((message) => {
    const parent = message.traceContext
      ? propagation.extract(ROOT_CONTEXT, { traceparent: message.traceContext })
      : ROOT_CONTEXT;
    const span = tracer.startSpan(
      name,
      { kind: SpanKind.PRODUCER, attributes: attributes(message) },
      parent,
    );
    const carrier: Record<string, string> = {};
    propagation.inject(trace.setSpan(parent, span), carrier);
    return { span, message: { ...message, traceContext: carrier.traceparent ?? null } };
  });
  try {
    await publish(spans.map(({ message }) => message));
  } catch (error) {
    for (const { span } of spans) {
      span.recordException(error as Error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
    }
    throw error;
  } finally {
    for (const { span } of spans) span.end();
  }
}

export { SpanKind };
