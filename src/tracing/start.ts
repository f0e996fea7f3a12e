/** Stops the SDK started below (flushing the spans still batched); absent when tracing is off. */
let stop: (() => Promise<void>) | undefined;

/**
 * Starts tracing when OTEL_EXPORTER_OTLP_ENDPOINT is set (src/tracing/sdk.ts, imported only
 * then). Without it nothing else is loaded: no SDK, no loader hook, and the API calls in
 * src/shared/tracing.ts stay no-ops.
 */
export async function startTracingIfConfigured(
  env: Record<string, string | undefined> = process.env,
): Promise<boolean> {
  if (!env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim()) return false;
  const { startTracing } = await import('./sdk.js');
  stop = await startTracing();
  return true;
}

/** At shutdown: exports the spans still batched and stops the SDK (nothing when it is off). */
export async function stopTracing(): Promise<void> {
  await stop?.();
  stop = undefined;
}
