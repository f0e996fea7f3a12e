import type { Config } from '../config.js';
import { openConfiguredDatabase, type Database } from '../db/client.js';
import { DataFolderInUseError } from '../db/pglite-lock.js';

/**
 * A command's database (a small pool). When another process holds the embedded database, says
 * who and what to do, and exits with status 1 — no stack trace.
 */
export function openCommandDatabase(
  config: Config,
  options: { poolSize: number; holder: string },
): Database {
  try {
    return openConfiguredDatabase(config, options);
  } catch (error) {
    if (!(error instanceof DataFolderInUseError)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
}
