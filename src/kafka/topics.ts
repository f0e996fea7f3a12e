import type { Logger } from 'pino';
import type { KafkaClient } from './package.js';

/**
 * Best effort: creates those of `topics` the cluster lacks, with `partitions` partitions and the
 * broker's default replication factor. Without the right to (or on the mock, which has no
 * CreateTopics — 0008) it only warns: the topics must then exist or be auto-created.
 */
export async function createMissingTopics(
  client: KafkaClient,
  topics: string[],
  partitions: number,
  logger: Logger,
): Promise<void> {
  const admin = client.admin();
  try {
    await admin.connect();
    const existing = new Set(await admin.listTopics());
    const missing = topics.filter((topic) => !existing.has(topic));
    if (missing.length === 0) return;
    await admin.createTopics({
      topics: missing.map((topic) => ({
        topic,
        numPartitions: partitions,
        // -1: the broker's default.replication.factor.
        replicationFactor: -1,
      })),
      timeout: 5_000,
    });
    logger.info({ topics: missing, partitions }, 'kafka topics created');
  } catch (error) {
    logger.warn(
      { err: error, topics },
      'could not check or create the kafka topics; they must exist (or be auto-created)',
    );
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}
