import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Config } from '../../config.js';
import { ExplainedError } from '../../shared/explained-error.js';

/** The file in the embedded database's folder that keeps the generated operator key. */
export const OPERATOR_KEY_FILE = 'overture-operator-key';

/** The shortest operator key accepted, configured or read from the key file. */
export const OPERATOR_KEY_MIN_LENGTH = 32;

/**
 * Where the operator key of AUTH_MODE=client-id comes from: configured (OPERATOR_KEY), kept in
 * the embedded database's folder (generated at its first start), made for this process only (an
 * embedded database in memory), or none (operator endpoints off). AUTH_MODE=jwt uses no key.
 */
export type OperatorKey =
  | { source: 'configured'; key: string }
  | { source: 'file'; key: string; file: string; generated: boolean }
  | { source: 'ephemeral'; key: string }
  | { source: 'none' | 'jwt' };

/**
 * The operator key for this configuration. On the embedded database (after it was opened: the
 * folder exists and this process holds its lock) a missing key file is created with a fresh key
 * (256 random bits, mode 0600) and later starts read it back.
 */
export async function resolveOperatorKey(
  config: Pick<
    Config,
    'AUTH_MODE' | 'OPERATOR_KEY' | 'DATABASE_URL' | 'PGLITE_DIR' | 'PGLITE_IN_MEMORY'
  >,
): Promise<OperatorKey> {
  if (config.AUTH_MODE === 'jwt') return { source: 'jwt' };
  if (config.OPERATOR_KEY !== '') return { source: 'configured', key: config.OPERATOR_KEY };
  if (config.DATABASE_URL !== '') return { source: 'none' };
  if (config.PGLITE_IN_MEMORY) return { source: 'ephemeral', key: freshKey() };
  const file = join(config.PGLITE_DIR, OPERATOR_KEY_FILE);
  const key = freshKey();
  try {
    // 'wx': never overwrites a key another start already wrote.
    await writeFile(file, `${key}\n`, { mode: 0o600, flag: 'wx' });
    return { source: 'file', key, file, generated: true };
  } catch (error) {
    if ((error as { code?: unknown }).code !== 'EEXIST') throw error;
  }
  const stored = (await readFile(file, 'utf8')).trim();
  if (stored.length < OPERATOR_KEY_MIN_LENGTH)
    throw new ExplainedError(
      `The operator key in ${file} has ${stored.length} characters, fewer than ${OPERATOR_KEY_MIN_LENGTH}: delete the file to have a new key generated, or set OPERATOR_KEY.`,
    );
  // Someone may have loosened it; the key opens every operator endpoint.
  await chmod(file, 0o600);
  return { source: 'file', key: stored, file, generated: false };
}

const freshKey = (): string => randomBytes(32).toString('base64url');

const digest = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();

/**
 * Compares a presented key with the operator key in constant time: both are hashed first, so
 * neither the content nor the length of the real key shows in the time taken.
 */
export function operatorKeyMatcher(key: string) {
  const expected = digest(key);
  return {
    matches: (presented: string): boolean => timingSafeEqual(digest(presented), expected),
    /** Names the key in the audit log without revealing it (rotating the key changes it). */
    fingerprint: expected.subarray(0, 4).toString('hex'),
  };
}
