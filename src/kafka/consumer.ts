import type { Logger } from 'pino';
import { pause } from '../shared/pause.js';
import type { KafkaClient, KafkaConsumer } from './package.js';

/**
 * Joins a consumer group in the background (a join waits for the brokers, 30 s per attempt while
 * they are down), retrying with backoff until it succeeds or `signal` aborts: the service starts
 * and works without Kafka, and consumes once it is back.
 */
export function joinInBackground(
  join: () => Promise<void>,
  options: { signal: AbortSignal; logger: Logger; group: string },
): void {
  void (async () => {
    const aborted = () => options.signal.aborted;
    for (let attempt = 0; !aborted(); attempt++) {
      try {
        await join();
        return;
      } catch (error) {
        if (aborted()) return;
        options.logger.warn(
          { err: error, group: options.group },
          'kafka consumer could not connect; retrying',
        );
        await pause(Math.min(30_000, 1_000 * 2 ** attempt), options.signal);
      }
    }
  })();
}

export interface GroupMemberOptions {
  groupId: string;
  topics: string[];
  /** A member silent this long leaves the group and its partitions move (heartbeats every tenth). */
  sessionTimeoutMs: number;
  /** How the member hands messages over (eachMessage or eachBatch) and how many partitions at once. */
  run: Parameters<KafkaConsumer['run']>[0];
  /** More KafkaJS-style settings of the member. */
  kafkaJS?: Record<string, unknown>;
  /** librdkafka and client settings beside the KafkaJS-style ones (`js.consumer.max.batch.size`…). */
  config?: Record<string, unknown>;
  /** True once the member is no longer wanted: a member that joins after that leaves at once. */
  stopped: () => boolean;
  /**
   * Called when the group hands this member its partitions (possibly none: more members than
   * partitions) — the moment it is a working member, which `connect` and `run` do not wait for.
   */
  onAssigned?: (assignment: { topic: string; partition: number }[]) => void;
}

/** librdkafka's code of a rebalance that assigns partitions (the other one revokes them). */
const ASSIGN_PARTITIONS = -175;

/**
 * Joins `groupId` as a new member and starts it. A group without a committed offset reads
 * everything the topics still hold; an offset is stored once its message was handled and
 * committed every second (and on rebalance and disconnect), so a crash hands at most about a
 * second of messages over again. Resolves with the running member, or undefined when `stopped`
 * by then (it has left again); a member that cannot join is disconnected and the call rejects.
 */
export async function joinGroup(
  client: KafkaClient,
  options: GroupMemberOptions,
): Promise<KafkaConsumer | undefined> {
  const consumer = client.consumer({
    kafkaJS: {
      groupId: options.groupId,
      fromBeginning: true,
      autoCommit: true,
      autoCommitInterval: 1_000,
      sessionTimeout: options.sessionTimeoutMs,
      heartbeatInterval: Math.max(100, Math.floor(options.sessionTimeoutMs / 10)),
      ...options.kafkaJS,
    },
    ...options.config,
    // Returning nothing keeps the client's own assignment; this only listens.
    rebalance_cb: (
      error: { code?: number },
      assignment: { topic: string; partition: number }[],
    ): undefined => {
      if (error.code === ASSIGN_PARTITIONS) options.onAssigned?.(assignment);
      return undefined;
    },
  });
  try {
    await consumer.connect();
    await consumer.subscribe({ topics: options.topics });
    await consumer.run(options.run);
  } catch (error) {
    await consumer.disconnect().catch(() => undefined);
    throw error;
  }
  if (!options.stopped()) return consumer;
  await consumer.disconnect();
  return undefined;
}
