import { describe, expect, it } from 'vitest';
import { ConfigError, configSchema, loadConfig } from '../../src/config.js';

describe('loadConfig', () => {
  it('applies the documented defaults', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      PORT: 3000,
      HOST: '127.0.0.1',
      DATABASE_URL: '',
      MAX_ACTIVE: 50,
      ACTIVE_TOKEN_TTL_SECONDS: 300,
      WAITING_TOKEN_IDLE_SECONDS: 1800,
      SEAT_HOLD_TTL_SECONDS: 300,
      POPULAR_LIMIT: 10,
      QUEUE_BACKEND: 'postgres',
      REDIS_URL: 'redis://127.0.0.1:6379',
      REDIS_KEY_PREFIX: 'overture',
    });
  });

  it('reads and coerces values, ignoring blanks', () => {
    const config = loadConfig({
      PORT: '8080',
      MAX_ACTIVE: ' 7 ',
      PGLITE_IN_MEMORY: 'true',
      DATABASE_URL: '',
    });
    expect(config.PORT).toBe(8080);
    expect(config.MAX_ACTIVE).toBe(7);
    expect(config.PGLITE_IN_MEMORY).toBe(true);
  });

  it.each([
    [{ PORT: 'abc' }, 'PORT'],
    [{ PORT: '70000' }, 'PORT'],
    [{ MAX_ACTIVE: '0' }, 'MAX_ACTIVE'],
    [{ MAX_ACTIVE: '2.5' }, 'MAX_ACTIVE'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    [{ PGLITE_IN_MEMORY: 'maybe' }, 'PGLITE_IN_MEMORY'],
    [{ SEAT_HOLD_TTL_SECONDS: '-5' }, 'SEAT_HOLD_TTL_SECONDS'],
    [{ QUEUE_BACKEND: 'mysql' }, 'QUEUE_BACKEND'],
    [{ REDIS_KEY_PREFIX: 'a{b}' }, 'REDIS_KEY_PREFIX'],
    [{ REDIS_KEY_PREFIX: 'all*' }, 'REDIS_KEY_PREFIX'],
    [{ REDIS_COMMAND_TIMEOUT_MS: '0' }, 'REDIS_COMMAND_TIMEOUT_MS'],
    [{ QUEUE_BACKEND: 'stream' }, 'KAFKA_BROKERS'],
    [{ QUEUE_STREAM_TOPIC: 'queue entries' }, 'QUEUE_STREAM_TOPIC'],
    [{ QUEUE_STREAM_APPLY_WAIT_MS: '-1' }, 'QUEUE_STREAM_APPLY_WAIT_MS'],
    [{ RETENTION_HOURS: '1', ACTIVE_TOKEN_TTL_SECONDS: '3600' }, 'RETENTION_HOURS'],
    [{ REQUEST_TIMEOUT_MS: '0' }, 'REQUEST_TIMEOUT_MS'],
    [{ HEADERS_TIMEOUT_MS: '20000', REQUEST_TIMEOUT_MS: '10000' }, 'HEADERS_TIMEOUT_MS'],
    [{ KEEP_ALIVE_TIMEOUT_MS: '0' }, 'KEEP_ALIVE_TIMEOUT_MS'],
  ])('refuses %o with a message naming %s', (env, name) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(name);
  });

  it.each([
    [{ PORT: 'abc' }, 'PORT="abc" is not allowed: expected a whole number from 0 to 65535'],
    [{ MAX_ACTIVE: '0' }, 'MAX_ACTIVE="0" is not allowed: expected a whole number from 1 to'],
    [
      { LOG_LEVEL: 'loud' },
      'LOG_LEVEL="loud" is not allowed: expected one of fatal, error, warn, info, debug, trace, silent',
    ],
    [
      { PGLITE_IN_MEMORY: 'maybe' },
      'PGLITE_IN_MEMORY="maybe" is not allowed: expected true or false',
    ],
    [
      { REDIS_KEY_PREFIX: 'a{b}' },
      'REDIS_KEY_PREFIX="a{b}" is not allowed: expected text matching ^[A-Za-z0-9_.:-]{1,64}$',
    ],
    [{ QUEUE_BACKEND: 'stream' }, 'QUEUE_BACKEND="stream" needs KAFKA_BROKERS'],
    [{ JWT_SECRET: 'too-short' }, 'JWT_SECRET has 9 characters: expected at least 32'],
    [{ POW_SECRET: 'too-short' }, 'POW_SECRET has 9 characters: expected at least 32'],
    [
      { MAX_CHARGE_AMOUNT: '1000', MAX_BALANCE: '999' },
      'MAX_CHARGE_AMOUNT=1000 is not allowed: expected at most MAX_BALANCE (999)',
    ],
  ])('says which variable, the value given and what is allowed: %o', (env, line) => {
    expect(() => loadConfig(env)).toThrow(line);
  });

  it('lists every bad variable at once, one per line, and never shows a secret', () => {
    let message = '';
    try {
      loadConfig({ PORT: '70000', LOG_LEVEL: 'loud', JWT_SECRET: 'x'.repeat(40), MAX_ACTIVE: 'x' });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message.split('\n')).toEqual([
      'Invalid configuration:',
      '  PORT="70000" is not allowed: expected a whole number from 0 to 65535',
      '  LOG_LEVEL="loud" is not allowed: expected one of fatal, error, warn, info, debug, trace, silent',
      '  MAX_ACTIVE="x" is not allowed: expected a whole number from 1 to 1000000',
    ]);
    expect(() => loadConfig({ JWT_SECRET: 'secret-value' })).not.toThrow('secret-value');
  });

  it('takes the stream queue backend with Kafka brokers (which also pick the Kafka bus)', () => {
    const config = loadConfig({ QUEUE_BACKEND: 'stream', KAFKA_BROKERS: '127.0.0.1:9092' });
    expect(config).toMatchObject({
      QUEUE_BACKEND: 'stream',
      EVENT_BUS: 'kafka',
      QUEUE_STREAM_TOPIC: 'queue.entries',
      QUEUE_STREAM_PARTITIONS: 6,
      QUEUE_STREAM_APPLY_WAIT_MS: 1000,
    });
    const inProcess = loadConfig({
      QUEUE_BACKEND: 'stream',
      KAFKA_BROKERS: '127.0.0.1:9092',
      EVENT_BUS: 'inprocess',
      QUEUE_STREAM_APPLY_WAIT_MS: '0',
    });
    expect([inProcess.EVENT_BUS, inProcess.QUEUE_STREAM_APPLY_WAIT_MS]).toEqual(['inprocess', 0]);
  });

  it('refuses a per-charge maximum above the balance maximum', () => {
    expect(() => loadConfig({ MAX_CHARGE_AMOUNT: '1000', MAX_BALANCE: '999' })).toThrow(
      /MAX_CHARGE_AMOUNT/,
    );
  });

  it('reads TRUST_PROXY as true/false, a hop count or a list of proxy addresses and ranges', () => {
    expect(loadConfig({}).TRUST_PROXY).toBe(false);
    expect(loadConfig({ TRUST_PROXY: 'false' }).TRUST_PROXY).toBe(false);
    expect(loadConfig({ TRUST_PROXY: 'true' }).TRUST_PROXY).toBe(true);
    expect(loadConfig({ TRUST_PROXY: 'TRUE' }).TRUST_PROXY).toBe(true);
    expect(loadConfig({ TRUST_PROXY: '2' }).TRUST_PROXY).toBe(2);
    expect(
      loadConfig({ TRUST_PROXY: '10.0.0.1, 192.168.0.0/16,loopback , fd00::/8' }).TRUST_PROXY,
    ).toEqual(['10.0.0.1', '192.168.0.0/16', 'loopback', 'fd00::/8']);
    for (const bad of ['yes', '10.0.0.300', '10.0.0.0/33', 'proxy.internal', '1.5', '-1', ',']) {
      expect(() => loadConfig({ TRUST_PROXY: bad }), bad).toThrow(ConfigError);
      expect(() => loadConfig({ TRUST_PROXY: bad }), bad).toThrow(/TRUST_PROXY/);
    }
  });

  it('describes every variable (the README table is generated from these descriptions)', () => {
    for (const [name, schema] of Object.entries(configSchema.properties)) {
      expect(typeof (schema as { description?: string }).description, name).toBe('string');
    }
  });

  it('reads WORKERS as a count or auto, and refuses several on the embedded database', () => {
    const server = { DATABASE_URL: 'postgres://db-host:5432/overture' };
    expect(loadConfig({}).WORKERS).toBe('1');
    expect(loadConfig({ ...server, WORKERS: 'auto' }).WORKERS).toBe('auto');
    expect(loadConfig({ ...server, WORKERS: '4' }).WORKERS).toBe('4');
    for (const bad of ['0', '-1', '1.5', 'all', '100']) {
      expect(() => loadConfig({ ...server, WORKERS: bad }), bad).toThrow(/WORKERS/);
    }
    expect(() => loadConfig({ WORKERS: '2' })).toThrow(
      /WORKERS=2 runs several processes, and DATABASE_URL is empty/,
    );
  });

  it('takes DATABASE_SESSION_URL only beside a PostgreSQL DATABASE_URL', () => {
    const pooled = {
      DATABASE_URL: 'postgres://pooler:6432/overture',
      DATABASE_SESSION_URL: 'postgres://db-host:5432/overture',
    };
    expect(loadConfig(pooled).DATABASE_SESSION_URL).toBe(pooled.DATABASE_SESSION_URL);
    expect(loadConfig({}).DATABASE_SESSION_URL).toBe('');
    const embedded = () => loadConfig({ DATABASE_SESSION_URL: pooled.DATABASE_SESSION_URL });
    expect(embedded).toThrow(ConfigError);
    expect(embedded).toThrow(/DATABASE_SESSION_URL is set, and DATABASE_URL is empty/);
  });

  describe('NODE_ENV=production and the embedded database', () => {
    const production = { NODE_ENV: 'production', ALLOW_CLIENT_ID_AUTH: 'true' };
    const server = { DATABASE_URL: 'postgres://db-host:5432/overture' };

    it.each([{}, { PGLITE_IN_MEMORY: 'true' }, { PGLITE_DIR: '/srv/overture' }])(
      'refuses PGlite (%o) naming DATABASE_URL and how to allow it',
      (env) => {
        const load = () => loadConfig({ ...production, ...env });
        expect(load).toThrow(ConfigError);
        expect(load).toThrow(/DATABASE_URL=postgres:\/\/.*ALLOW_EMBEDDED_DATABASE=true/);
      },
    );

    it('starts on PGlite when explicitly allowed, and on PostgreSQL', () => {
      expect(loadConfig({ ...production, ALLOW_EMBEDDED_DATABASE: 'true' }).DATABASE_URL).toBe('');
      expect(loadConfig({ ...production, ...server }).DATABASE_URL).toBe(server.DATABASE_URL);
    });

    it('loads demo concerts in production only when asked', () => {
      expect(loadConfig({ ...production, ...server }).SEED_DEMO_DATA).toBe(false);
      expect(loadConfig({ ...production, ...server, SEED_DEMO_DATA: 'true' }).SEED_DEMO_DATA).toBe(
        true,
      );
      expect(loadConfig({ ...server }).SEED_DEMO_DATA).toBe(true);
      expect(loadConfig({ NODE_ENV: 'test', SEED_DEMO_DATA: 'false' }).SEED_DEMO_DATA).toBe(false);
    });
  });
});
