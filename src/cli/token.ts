/**
 * `npm run token -- <userId> [--admin] [--ttl seconds]`: prints a JWT for local use with
 * AUTH_MODE=jwt, signed with the configured key (JWT_SECRET for HS256, or the PKCS#8 private key
 * in JWT_PRIVATE_KEY_FILE for RS256/ES256).
 */
import { loadConfig } from '../config.js';
import { mintToken, readPrivateKey } from '../modules/auth/mint.js';

const args = process.argv.slice(2);
const userId = Number(args[0]);
const ttlIndex = args.indexOf('--ttl');
const ttlSeconds = ttlIndex >= 0 ? Number(args[ttlIndex + 1]) : 3600;
if (
  !Number.isSafeInteger(userId) ||
  userId < 1 ||
  !Number.isSafeInteger(ttlSeconds) ||
  ttlSeconds < 1
) {
  process.stderr.write('usage: npm run token -- <userId> [--admin] [--ttl seconds]\n');
  process.exit(2);
}
const config = loadConfig();
const token = await mintToken(
  config,
  { userId, admin: args.includes('--admin'), ttlSeconds },
  await readPrivateKey(process.env.JWT_PRIVATE_KEY_FILE),
);
process.stdout.write(`${token}\n`);
