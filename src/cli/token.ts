/**
 * `npm run token -- <userId> [--admin] [--ttl seconds]`: prints a JWT for local use with
 * AUTH_MODE=jwt, signed with the configured key (JWT_SECRET for HS256, or the PKCS#8 private key
 * in JWT_PRIVATE_KEY_FILE for RS256/ES256).
 */
import { readFile } from 'node:fs/promises';
import { loadConfig, type Config } from '../config.js';
import { mintToken } from '../modules/auth/mint.js';
import { CliError, runCli } from './run.js';

const USAGE = 'usage: npm run token -- <userId> [--admin] [--ttl seconds]';

/** The private key for RS256/ES256, or a CliError saying how to give one. */
async function privateKey(config: Config): Promise<string | undefined> {
  if (config.JWT_ALGORITHM === 'HS256') {
    if (config.JWT_SECRET === '')
      throw new CliError(
        'npm run token needs the key the server verifies with: set JWT_SECRET (HS256, at least 32 characters), ' +
          'e.g. export JWT_SECRET=$(openssl rand -hex 32) in both terminals; or JWT_ALGORITHM=RS256/ES256 with ' +
          'JWT_PRIVATE_KEY_FILE (README: Identity, limits and operators).',
      );
    return undefined;
  }
  const path = config.JWT_PRIVATE_KEY_FILE;
  if (path === '')
    throw new CliError(
      `JWT_ALGORITHM=${config.JWT_ALGORITHM}: npm run token signs with a private key; set JWT_PRIVATE_KEY_FILE to ` +
        'its PKCS#8 PEM file (the server verifies with the public key in JWT_PUBLIC_KEY_FILE or JWT_JWKS_FILE).',
    );
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    throw new CliError(
      `JWT_PRIVATE_KEY_FILE=${path} cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)}).`,
    );
  }
}

await runCli('npm run token', async () => {
  const args = process.argv.slice(2);
  const userId = Number(args[0]);
  const ttlIndex = args.indexOf('--ttl');
  const ttlSeconds = ttlIndex >= 0 ? Number(args[ttlIndex + 1]) : 3600;
  if (
    !Number.isSafeInteger(userId) ||
    userId < 1 ||
    !Number.isSafeInteger(ttlSeconds) ||
    ttlSeconds < 1
  )
    throw new CliError(`${USAGE}\n  userId and seconds are positive whole numbers.`, 2);
  const config = loadConfig();
  const pem = await privateKey(config);
  let token: string;
  try {
    token = await mintToken(config, { userId, admin: args.includes('--admin'), ttlSeconds }, pem);
  } catch (error) {
    if (pem === undefined) throw error;
    throw new CliError(
      `JWT_PRIVATE_KEY_FILE=${config.JWT_PRIVATE_KEY_FILE} is not a PKCS#8 PEM private key for ${config.JWT_ALGORITHM}: ${(error as Error).message}`,
    );
  }
  process.stdout.write(`${token}\n`);
  return 0;
});
