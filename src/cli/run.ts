import { ConfigError } from '../config.js';
import { ExplainedError } from '../shared/explained-error.js';

/** A refusal a command explains itself, with the exit status it ends the command with. */
export class CliError extends ExplainedError {
  override name = 'CliError';

  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

/**
 * An error's own words: the innermost cause (drizzle wraps the driver's error in "Failed query:
 * <sql>"), and pg's connection errors are AggregateErrors with an empty message.
 */
export function reasonOf(error: unknown): string {
  let inner = error;
  while (inner instanceof Error && inner.cause instanceof Error) inner = inner.cause;
  if (inner instanceof AggregateError && inner.errors[0] instanceof Error) inner = inner.errors[0];
  if (!(inner instanceof Error)) return String(inner);
  const code = (inner as { code?: unknown }).code;
  return inner.message || (typeof code === 'string' ? code : inner.name);
}

/** The driver's error code (pg's SQLSTATE, or a Node system error's) under any wrapping. */
function codeOf(error: unknown): unknown {
  let inner = error;
  while (inner instanceof Error && inner.cause instanceof Error) inner = inner.cause;
  if (inner instanceof AggregateError) inner = inner.errors[0];
  return (inner as { code?: unknown } | undefined)?.code;
}

/** A failure to use the database, as a message saying what to check. */
export function databaseFailure(error: unknown, description: string): CliError {
  const code = codeOf(error);
  const reason = reasonOf(error);
  if (code === '42P01' || code === '3F000')
    return new CliError(
      `${description} has no Overture tables (${reason}): run npm run migrate (or start the server) first.`,
    );
  if (
    typeof code === 'string' &&
    /^(ECONNREFUSED|ENOTFOUND|ETIMEDOUT|EHOSTUNREACH|28|3D)/.test(code)
  )
    return new CliError(`Cannot use the database ${description} (${reason}): check DATABASE_URL.`);
  return new CliError(`The database ${description} failed: ${reason}`);
}

/**
 * Runs a command's `main` and exits with its status. A failure prints one message to stderr,
 * never a stack trace: a CliError or a ConfigError says what to do; anything else is named with
 * its reason.
 */
export async function runCli(name: string, main: () => Promise<number>): Promise<void> {
  try {
    process.exitCode = await main();
  } catch (error) {
    if (error instanceof ExplainedError) {
      process.stderr.write(`${error.message}\n`);
      process.exitCode = error instanceof CliError ? error.exitCode : 1;
    } else if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\nSee the configuration table in README.md.\n`);
      process.exitCode = 1;
    } else {
      process.stderr.write(`${name} failed: ${reasonOf(error)}\n`);
      process.exitCode = 1;
    }
  }
}
