/**
 * A failure whose message already says what went wrong and what to do: commands and the server's
 * start print it as it is, never with a stack trace.
 */
export class ExplainedError extends Error {
  override name = 'ExplainedError';
}
