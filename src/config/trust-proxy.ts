import { compile as compileTrust } from '@fastify/proxy-addr';
import { isIP } from 'node:net';
import { invalid } from './errors.js';

/** TRUST_PROXY as Fastify's trustProxy takes it. */
export type TrustProxy = boolean | number | string[];

/** The address ranges proxy-addr knows by name. */
const NAMED_RANGES = new Set(['loopback', 'linklocal', 'uniquelocal']);

/** TRUST_PROXY's text: true/false, a hop count, or addresses and ranges checked as Fastify will read them. */
export function parseTrustProxy(value: string): TrustProxy {
  const lower = value.toLowerCase();
  if (lower === 'true' || lower === 'false') return lower === 'true';
  if (/^[0-9]+$/.test(value)) return Number(value);
  const entries = value
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  try {
    if (entries.length === 0) throw new Error('no address');
    // proxy-addr also takes legacy IPv4 forms ("1.5" = 1.0.0.5): only canonical ones here.
    const odd = entries.find(
      (entry) => !NAMED_RANGES.has(entry) && isIP(entry.split('/')[0] ?? '') === 0,
    );
    if (odd !== undefined) throw new Error(`invalid IP address: ${odd}`);
    compileTrust(entries);
  } catch (error) {
    throw invalid([
      `TRUST_PROXY="${value}" is not allowed: expected true, false, a hop count or a list of IP addresses / CIDR ranges (${(error as Error).message})`,
    ]);
  }
  return entries;
}
