import envSchema from 'env-schema';
import type { Static } from 'typebox';
import { crossSettingProblem } from './config/checks.js';
import { describeInvalid, invalid } from './config/errors.js';
import { configSchema, type Config } from './config/schema.js';
import { parseTrustProxy } from './config/trust-proxy.js';

/*
 * The configuration: src/config/ holds the schema (the settings by area, *.settings.ts),
 * TRUST_PROXY's parser, the rules across settings and the refusal messages; this file loads it.
 */
export { configSchema, type Config } from './config/schema.js';
export { ConfigError } from './config/errors.js';
export { kafkaBrokers } from './config/events.settings.js';
export type { TrustProxy } from './config/trust-proxy.js';

/**
 * Parses and validates the environment once; throws a ConfigError with one line per bad
 * variable, naming it, the value given and what it accepts.
 */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const data = Object.fromEntries(
    Object.keys(configSchema.properties)
      .map((key) => [key, env[key]?.trim()] as const)
      .filter(([, value]) => value !== undefined && value !== ''),
  );
  // KAFKA_BROKERS alone enables the Kafka bus (the seed's convention); EVENT_BUS, when given, decides.
  if (data.EVENT_BUS === undefined && data.KAFKA_BROKERS !== undefined) data.EVENT_BUS = 'kafka';
  // Demo concerts in a production database only when asked for by name.
  if (data.SEED_DEMO_DATA === undefined && data.NODE_ENV === 'production')
    data.SEED_DEMO_DATA = 'false';
  let parsed: Static<typeof configSchema>;
  try {
    parsed = envSchema<Static<typeof configSchema>>({
      schema: configSchema,
      data: { ...data },
      env: false,
    });
  } catch (error) {
    const lines = describeInvalid(
      (error as { errors?: [] }).errors ?? [],
      data,
      configSchema.properties,
    );
    throw invalid(lines.length > 0 ? lines : [(error as Error).message]);
  }
  const config: Config = { ...parsed, TRUST_PROXY: parseTrustProxy(parsed.TRUST_PROXY) };
  const problem = crossSettingProblem(config);
  if (problem !== undefined) throw invalid([problem]);
  return config;
}
