import { describe } from 'vitest';
import { loadKafka, type KafkaModule } from '../../src/kafka/package.js';
import { buildKafkaMock } from '../../tools/kafka-mock/mock.js';

export { startKafkaMock, type KafkaMock } from '../../tools/kafka-mock/mock.js';

const required = () => process.env.CI === 'true' || process.env.REQUIRE_SERVICES === '1';

/**
 * Why the Kafka tests cannot run here ('' when they can): the mock cluster (tools/kafka-mock,
 * built by its build.sh from Debian's librdkafka-dev) and the optional client package must both
 * be there.
 */
async function kafkaUnavailable(): Promise<{ reason: string; kafka?: KafkaModule }> {
  const notBuilt = buildKafkaMock();
  if (notBuilt !== '') return { reason: notBuilt };
  const kafka = await loadKafka();
  if (!kafka)
    return {
      reason:
        'the optional package @confluentinc/kafka-javascript is not installed (CKJS_LINKING=dynamic npm ci: docs/decisions/0008)',
    };
  return { reason: '', kafka };
}

const availability = await kafkaUnavailable();
if (availability.reason !== '') {
  const message = `Kafka tests cannot run: ${availability.reason}`;
  // Like PostgreSQL and Redis in global setup: loud on a laptop, fatal where services are required.
  if (required()) throw new Error(`${message}, and CI=true/REQUIRE_SERVICES=1 requires them.`);
  process.stderr.write(`\n!!! ${message}: every Kafka test in this file is SKIPPED.\n\n`);
}

/** The client module when the Kafka tests can run. */
export const kafkaModule = availability.kafka;

/** `describe` for suites that need the Kafka mock and client: skipped loudly without them. */
export const describeWithKafka = describe.skipIf(availability.reason !== '');
