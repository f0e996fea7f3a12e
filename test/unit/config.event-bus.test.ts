import { describe, expect, it } from 'vitest';
import { ConfigError, kafkaBrokers, loadConfig } from '../../src/config.js';

describe('event bus configuration', () => {
  it('defaults to the in-process bus', () => {
    expect(loadConfig({}).EVENT_BUS).toBe('inprocess');
  });

  it('takes KAFKA_BROKERS alone as the switch to Kafka, and lists the brokers', () => {
    const config = loadConfig({ KAFKA_BROKERS: ' 10.0.0.1:9092, 10.0.0.2:9092 ,' });
    expect(config.EVENT_BUS).toBe('kafka');
    expect(kafkaBrokers(config)).toEqual(['10.0.0.1:9092', '10.0.0.2:9092']);
  });

  it('lets EVENT_BUS decide when both are given', () => {
    expect(loadConfig({ EVENT_BUS: 'redis', KAFKA_BROKERS: 'k:9092' }).EVENT_BUS).toBe('redis');
  });

  it.each([
    [{ EVENT_BUS: 'kafka' }, 'KAFKA_BROKERS'],
    [{ EVENT_BUS: 'nats' }, 'EVENT_BUS'],
    [{ REDIS_STREAM_SHARDS: '0' }, 'REDIS_STREAM_SHARDS'],
    [{ KAFKA_TOPIC_PARTITIONS: '0' }, 'KAFKA_TOPIC_PARTITIONS'],
  ])('refuses %o with a message naming %s', (env, name) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(name);
  });
});
