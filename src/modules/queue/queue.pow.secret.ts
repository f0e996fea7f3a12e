import { randomBytes } from 'node:crypto';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Config } from '../../config.js';
import { ExplainedError } from '../../shared/explained-error.js';

/** The file in the embedded database's folder that keeps the generated proof-of-work secret. */
export const POW_SECRET_FILE = 'overture-pow-secret';

/** The shortest secret accepted, configured or read from the file. */
export const POW_SECRET_MIN_LENGTH = 32;

/**
 * Where the key that signs proof-of-work challenges comes from — the operator key's pattern
 * (src/modules/auth/operator-key.ts): configured (POW_SECRET), kept in the embedded database's
 * folder (generated at its first start), made for this process only (an embedded database in
 * memory), or none (on PostgreSQL without POW_SECRET: instances would each make their own and
 * refuse each other's challenges, so rooms cannot require a proof of work).
 */
export type PowSecret =
  | { source: 'configured'; secret: string }
  | { source: 'file'; secret: string; file: string; generated: boolean }
  | { source: 'ephemeral'; secret: string }
  | { source: 'none' };

/**
 * The secret for this configuration. Call it after the embedded database was opened (its folder
 * exists and this process holds its lock): a missing file is created with a fresh secret (256
 * random bits, mode 0600) and later starts read it back.
 */
export async function resolvePowSecret(
  config: Pick<Config, 'POW_SECRET' | 'DATABASE_URL' | 'PGLITE_DIR' | 'PGLITE_IN_MEMORY'>,
): Promise<PowSecret> {
  if (config.POW_SECRET !== '') return { source: 'configured', secret: config.POW_SECRET };
  if (config.DATABASE_URL !== '') return { source: 'none' };
  if (config.PGLITE_IN_MEMORY) return { source: 'ephemeral', secret: freshSecret() };
  const file = join(config.PGLITE_DIR, POW_SECRET_FILE);
  const secret = freshSecret();
  try {
    // 'wx': never overwrites a secret another start already wrote.
    await writeFile(file, `${secret}\n`, { mode: 0o600, flag: 'wx' });
    return { source: 'file', secret, file, generated: true };
  } catch (error) {
    if ((error as { code?: unknown }).code !== 'EEXIST') throw error;
  }
  const stored = (await readFile(file, 'utf8')).trim();
  if (stored.length < POW_SECRET_MIN_LENGTH)
    throw new ExplainedError(
      `The proof-of-work secret in ${file} has ${stored.length} characters, fewer than ${POW_SECRET_MIN_LENGTH}: delete the file to have a new one generated, or set POW_SECRET.`,
    );
  // Someone may have loosened it; whoever reads it can sign challenges.
  await chmod(file, 0o600);
  return { source: 'file', secret: stored, file, generated: false };
}

const freshSecret = (): string => randomBytes(32).toString('base64url');
