/**
 * End-to-end proof that the Kafka client speaks the real protocol to our mock cluster:
 * idempotent acks=all producer, keyed messages over 6 partitions, a two-member consumer group,
 * redelivery after a handler throws, manual offset commits, and a restarted consumer resuming
 * from the committed offsets. Exits non-zero on any broken expectation.
 *
 *   bash tools/kafka-mock/build.sh && npx tsx tools/kafka-mock/smoke.ts
 */
import { spawn, spawnSync, type ChildProcessByStdio } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import {
  loadKafka,
  type KafkaAdmin,
  type KafkaConsumer,
  type KafkaMessage,
  type KafkaProducer,
} from '../../src/kafka/package.js';

/**
 * What this proof uses of the optional client beyond the adapter's own types
 * (src/kafka/package.ts), declared here so the project typechecks without the package.
 */
interface Consumer extends KafkaConsumer {
  commitOffsets(offsets: { topic: string; partition: number; offset: string }[]): Promise<void>;
}
interface Producer extends KafkaProducer {
  send(record: { topic: string; messages: KafkaMessage[] }): Promise<unknown>;
}
interface Admin extends KafkaAdmin {
  createTopics(options: {
    topics: { topic: string; numPartitions: number }[];
    timeout?: number;
  }): Promise<boolean>;
  fetchOffsets(options: {
    groupId: string;
    topics: (string | { topic: string; partitions: number[] })[];
  }): Promise<{ topic: string; partitions: { partition: number; offset: string }[] }[]>;
  fetchTopicMetadata(options: { topics: string[]; timeout?: number }): Promise<unknown>;
}
interface Logger {
  info(message: string): void;
  debug(message: string): void;
  warn(message: string): void;
  error(message: string): void;
  namespace(): Logger;
  setLogLevel(): void;
}
interface SmokeKafkaModule {
  Kafka: new (config: Record<string, unknown>) => {
    producer(config: Record<string, unknown>): Producer;
    consumer(config: Record<string, unknown>): Consumer;
    admin(): Admin;
  };
  logLevel: { WARN: number };
}

const loaded = (await loadKafka()) as unknown as SmokeKafkaModule | undefined;
if (!loaded) {
  console.error(
    'kafka smoke FAILED: @confluentinc/kafka-javascript is not installed (README: Kafka)',
  );
  process.exit(1);
}
const { Kafka, logLevel } = loaded;

const TOPIC = 'reservation.confirmed';
const PARTITIONS = 6;
const CONCERTS = 10;
const PER_CONCERT = 10; // 100 messages in the first round
const SECOND_ROUND_PER_CONCERT = 2; // 20 more, for the restarted consumer
const GROUP = 'smoke-ranking';

const here = fileURLToPath(new URL('.', import.meta.url));
// A send to a dead cluster waits for minutes: bound the whole run instead.
setTimeout(() => {
  console.error('kafka smoke FAILED: not done after 120 s');
  process.exit(1);
}, 120_000).unref();
const started = performance.now();
async function timed<T>(label: string, step: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  const result = await step();
  console.log(`  ${label}: ${(performance.now() - t0).toFixed(0)} ms`);
  return result;
}

const failures: string[] = [];
function expect(ok: boolean, what: string): void {
  console.log(`  ${ok ? 'ok  ' : 'FAIL'} ${what}`);
  if (!ok) failures.push(what);
}

async function waitFor(what: string, ok: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

interface Mock {
  process: ChildProcessByStdio<Writable, Readable, null>;
  brokers: string[];
  /** Sends a control line (down/up/rtt/topic) and resolves with the mock's reply. */
  command(line: string): Promise<string>;
}

/** Starts the mock; its first stdout line is the bootstrap servers list. */
async function startMock(): Promise<Mock> {
  const build = spawnSync('bash', [`${here}build.sh`], { encoding: 'utf8' });
  if (build.status !== 0) throw new Error(`build.sh failed: ${build.stderr}`);
  // stdin stays a pipe: if this process dies, the mock sees EOF and exits by itself.
  const mock = spawn(`${here}kafka-mock`, ['--brokers', '3', '--topic', `${TOPIC}:${PARTITIONS}`], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  mock.on('exit', (code, signal) => {
    if (mock.stdin.writableEnded) return; // we asked it to stop
    console.error(`kafka smoke FAILED: kafka-mock exited (${String(code ?? signal)})`);
    process.exit(1);
  });
  const lines = createInterface({ input: mock.stdout });
  const [first] = (await once(lines, 'line')) as [string];
  const replies: string[] = [];
  lines.on('line', (line) => {
    if (line.startsWith('ok ') || line.startsWith('error ')) replies.push(line);
  });
  return {
    process: mock,
    brokers: first.split(','),
    async command(line) {
      const seen = replies.length;
      mock.stdin.write(`${line}\n`);
      await waitFor(`reply to ${line}`, () => replies.length > seen, 5000);
      return replies[seen] ?? '';
    },
  };
}

interface Delivery {
  consumer: string;
  partition: number;
  offset: bigint;
  concert: string;
  seq: number;
}

function keyOf(i: number): string {
  return `concert-${String((i % CONCERTS) + 1)}`;
}

async function main(): Promise<void> {
  console.log('kafka smoke: mock cluster + @confluentinc/kafka-javascript');
  const mock = await timed('start mock (3 brokers, topic pre-created)', startMock);
  const { brokers } = mock;
  console.log(`  bootstrap: ${brokers.join(',')}`);

  const clientLog: string[] = [];
  const log = (level: string) => (message: string) => {
    clientLog.push(`${level}: ${(message.split('\n', 1)[0] ?? '').slice(0, 160)}`);
  };
  const logger: Logger = {
    info: () => undefined,
    debug: () => undefined,
    warn: log('warn'),
    error: log('error'),
    namespace: () => logger,
    setLogLevel: () => undefined,
  };
  const kafka = new Kafka({
    kafkaJS: { brokers, clientId: 'overture-smoke', logLevel: logLevel.WARN, logger },
    // librdkafka backs off reconnects up to 10 s by default; 1 s keeps an outage test short.
    'reconnect.backoff.max.ms': 1000,
  });
  const producer = kafka.producer({
    // acks=-1 (all in-sync replicas) and idempotence: retries never duplicate or reorder.
    kafkaJS: { idempotent: true, acks: -1, maxInFlightRequests: 5 },
    'linger.ms': 5,
  });
  const admin = kafka.admin();

  const deliveries: Delivery[] = [];
  let failOnce: string | null = 'concert-3#4'; // this message's first delivery throws
  let redelivered = 0;

  function makeConsumer(name: string): Consumer {
    return kafka.consumer({
      kafkaJS: {
        groupId: GROUP,
        fromBeginning: true, // only applies where the group has no committed offset
        autoCommit: false,
        sessionTimeout: 3000, // the mock makes a rejoining member wait sessionTimeout - 1 s
        heartbeatInterval: 300,
      },
      'client.id': name,
    });
  }

  async function runConsumer(name: string): Promise<Consumer> {
    const consumer = makeConsumer(name);
    await consumer.connect();
    await consumer.subscribe({ topics: [TOPIC] });
    await consumer.run({
      eachMessage: async ({ topic, partition, message }) => {
        if (!message.value) throw new Error('message without a value');
        const value = JSON.parse(message.value.toString()) as { concert: string; seq: number };
        const id = `${value.concert}#${String(value.seq)}`;
        if (id === failOnce) {
          failOnce = null;
          throw new Error('simulated handler failure'); // the client must deliver it again
        }
        if (id === 'concert-3#4') redelivered++;
        deliveries.push({
          consumer: name,
          partition,
          offset: BigInt(message.offset),
          concert: value.concert,
          seq: value.seq,
        });
        // Commit only after the handler succeeded: at-least-once.
        await consumer.commitOffsets([
          { topic, partition, offset: (BigInt(message.offset) + 1n).toString() },
        ]);
      },
    });
    return consumer;
  }

  async function produce(from: number, count: number, perConcertBase: number): Promise<void> {
    const sends: Promise<unknown>[] = [];
    for (let i = from; i < from + count; i++) {
      const concert = keyOf(i);
      const seq = perConcertBase + Math.floor((i - from) / CONCERTS);
      // Not awaited one by one: all 100 are in flight together, as a relay batch would be.
      sends.push(
        producer.send({
          topic: TOPIC,
          messages: [{ key: concert, value: JSON.stringify({ concert, seq }) }],
        }),
      );
    }
    await Promise.all(sends);
  }

  try {
    await timed('producer + admin connect', async () => {
      await producer.connect();
      await admin.connect();
    });
    const topics = await admin.listTopics();
    expect(topics.includes(TOPIC), `topic ${TOPIC} listed by the admin client`);

    const a = await runConsumer('consumer-a');
    const b = await runConsumer('consumer-b');
    await timed('group join: both members assigned, 6 partitions split', () =>
      waitFor(
        'both consumers assigned',
        () =>
          a.assignment().length > 0 &&
          b.assignment().length > 0 &&
          a.assignment().length + b.assignment().length === PARTITIONS,
      ),
    );
    console.log(
      `  assignment: a=${JSON.stringify(a.assignment().map((p) => p.partition))} b=${JSON.stringify(b.assignment().map((p) => p.partition))}`,
    );

    const total = CONCERTS * PER_CONCERT;
    const t0 = performance.now();
    await timed(`produce ${String(total)} keyed messages (idempotent, acks=all)`, () =>
      produce(0, total, 0),
    );
    await timed(`consume all ${String(total)} (after the sends resolved)`, () =>
      waitFor('all messages consumed', () => deliveries.length >= total),
    );
    console.log(`  produce→consume end to end: ${(performance.now() - t0).toFixed(0)} ms`);

    const ids = new Set(deliveries.map((d) => `${d.concert}#${String(d.seq)}`));
    expect(
      ids.size === total && deliveries.length === total,
      `every message arrived exactly once (${String(deliveries.length)} deliveries, ${String(ids.size)} distinct)`,
    );
    expect(redelivered === 1, 'the message whose handler threw was delivered again');
    const byConcert = new Map<string, Delivery[]>();
    for (const d of deliveries) byConcert.set(d.concert, [...(byConcert.get(d.concert) ?? []), d]);
    const inOrder = [...byConcert.values()].every((ds) => ds.every((d, i) => d.seq === i));
    expect(inOrder, 'per concert, events arrive in the order they were sent');
    const onePartitionPerKey = [...byConcert.values()].every(
      (ds) => new Set(ds.map((d) => d.partition)).size === 1,
    );
    expect(onePartitionPerKey, 'each concert key maps to a single partition');
    const used = new Set(deliveries.map((d) => d.partition));
    const consumersUsed = new Set(deliveries.map((d) => d.consumer));
    expect(
      consumersUsed.size === 2,
      `both group members handled messages (partitions used: ${String(used.size)})`,
    );
    const ownerOf = new Map<number, Set<string>>();
    for (const d of deliveries)
      ownerOf.set(d.partition, (ownerOf.get(d.partition) ?? new Set()).add(d.consumer));
    expect(
      [...ownerOf.values()].every((s) => s.size === 1),
      'each partition was read by one member',
    );

    const endOffsets = new Map<number, bigint>();
    for (const d of deliveries) {
      if (d.offset + 1n > (endOffsets.get(d.partition) ?? 0n))
        endOffsets.set(d.partition, d.offset + 1n);
    }
    await timed('disconnect both consumers', async () => {
      await a.disconnect();
      await b.disconnect();
    });

    // Partitions named explicitly: asked for "all partitions of the topic" (topics: [TOPIC]),
    // the client sends OffsetFetch with no topic list, which the 2.0.2 mock answers empty.
    const allPartitions = Array.from({ length: PARTITIONS }, (_, p) => p);
    const committed = await timed('admin.fetchOffsets (committed offsets)', () =>
      admin.fetchOffsets({ groupId: GROUP, topics: [{ topic: TOPIC, partitions: allPartitions }] }),
    );
    const all = await admin.fetchOffsets({ groupId: GROUP, topics: [TOPIC] });
    console.log(`  note: fetchOffsets by topic name only returns ${JSON.stringify(all)}`);
    const committedBy = new Map(
      (committed[0]?.partitions ?? []).map((p) => [p.partition, BigInt(p.offset)]),
    );
    const committedRight = [...endOffsets].every(([p, end]) => committedBy.get(p) === end);
    expect(
      committedRight,
      `committed offsets = last consumed + 1 on every partition (${JSON.stringify(Object.fromEntries([...committedBy].map(([p, o]) => [p, o.toString()])))})`,
    );

    // Second round: more events while no consumer runs, then one member restarts.
    const more = CONCERTS * SECOND_ROUND_PER_CONCERT;
    await produce(total, more, PER_CONCERT);
    const before = deliveries.length;
    const restarted = await timed('restart one consumer (connect+subscribe+run)', () =>
      runConsumer('consumer-b-restarted'),
    );
    await timed('restarted consumer assigned all 6 partitions', () =>
      waitFor('restarted consumer assigned', () => restarted.assignment().length === PARTITIONS),
    );
    await timed(`restarted consumer gets the ${String(more)} new events`, () =>
      waitFor('second round consumed', () => deliveries.length >= before + more),
    );
    await new Promise((r) => setTimeout(r, 1000)); // anything re-read from 0 would show up now
    const second = deliveries.slice(before);
    expect(
      second.length === more,
      `restarted consumer received only the ${String(more)} new events (${String(second.length)})`,
    );
    expect(
      second.every((d) => d.seq >= PER_CONCERT),
      'no event from the first round was delivered again',
    );
    const firstOffsetPerPartition = new Map<number, bigint>();
    for (const d of second) {
      if (!firstOffsetPerPartition.has(d.partition))
        firstOffsetPerPartition.set(d.partition, d.offset);
    }
    expect(
      [...firstOffsetPerPartition].every(([p, o]) => o === (committedBy.get(p) ?? 0n)),
      'on every partition it resumed exactly at the committed offset',
    );

    // Outage: every broker refuses connections; sends wait in the client, then go through.
    expect((await mock.command('down -1')).startsWith('ok'), 'mock takes all brokers down');
    const beforeOutage = deliveries.length;
    const outage = { sent: false };
    const outageSend = produce(total + more, CONCERTS, PER_CONCERT + SECOND_ROUND_PER_CONCERT).then(
      () => (outage.sent = true),
    );
    await new Promise((r) => setTimeout(r, 2000));
    expect(
      !outage.sent && deliveries.length === beforeOutage,
      'while the brokers are down, sends wait',
    );
    expect((await mock.command('up -1')).startsWith('ok'), 'mock brings the brokers back');
    await timed('after brokers come back: sends acknowledged', () => outageSend);
    await timed('after brokers come back: events consumed', () =>
      waitFor('outage events consumed', () => deliveries.length >= beforeOutage + CONCERTS),
    );
    await new Promise((r) => setTimeout(r, 500)); // let any redelivery show up
    const afterOutage = new Map<string, number[]>();
    for (const d of deliveries)
      afterOutage.set(d.concert, [...(afterOutage.get(d.concert) ?? []), d.seq]);
    // A commit lost in the outage means the event comes again (at least once): the inbox of
    // processed event ids dedupes it. What must hold: nothing lost, first arrivals in order.
    const total3 = PER_CONCERT + SECOND_ROUND_PER_CONCERT + 1;
    const duplicates =
      deliveries.length - new Set(deliveries.map((d) => `${d.concert}#${String(d.seq)}`)).size;
    expect(
      [...afterOutage.values()].every((seqs) => {
        const firsts = seqs.filter((q, i) => seqs.indexOf(q) === i);
        return firsts.length === total3 && firsts.every((q, i) => q === i);
      }),
      `after the outage every event arrived, first arrivals in order (${String(duplicates)} redelivered)`,
    );
    await restarted.disconnect();

    // Quirks worth knowing for the real adapter.
    const auto = 'smoke.autocreated';
    try {
      await producer.send({ topic: auto, messages: [{ key: 'k', value: 'v' }] });
      console.log(`  note: producing to an unknown topic auto-creates it`);
    } catch (err) {
      console.log(`  note: auto-creation failed: ${String(err)}`);
    }
    try {
      const created = await admin.createTopics({
        topics: [{ topic: 'smoke.admin-created', numPartitions: 3 }],
        timeout: 5000,
      });
      console.log(`  note: admin.createTopics returned ${String(created)}`);
    } catch (err) {
      const inner = (err as { errors?: unknown }).errors;
      console.log(
        `  note: admin.createTopics is refused by the mock: ${String(err)} ${JSON.stringify(inner)}`,
      );
    }
    try {
      await admin.fetchTopicMetadata({ topics: [TOPIC], timeout: 2000 });
      console.log('  note: admin.fetchTopicMetadata works');
    } catch (err) {
      console.log(
        `  note: admin.fetchTopicMetadata/fetchTopicOffsets (DescribeTopics) fail: ${String(err)}`,
      );
    }
  } finally {
    await producer.disconnect().catch(() => undefined);
    await admin.disconnect().catch(() => undefined);
    await timed('stop mock (stdin closed)', async () => {
      const exited = once(mock.process, 'exit');
      mock.process.stdin.end();
      const timer = setTimeout(() => mock.process.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    });
  }

  const kinds = new Map<string, number>();
  for (const line of clientLog) {
    const kind = line.replace(/\d+/g, '#').slice(0, 100);
    kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
  }
  console.log(`client log: ${String(clientLog.length)} warn/error lines, by kind:`);
  for (const [kind, n] of kinds) console.log(`  ${String(n).padStart(4)} × ${kind}`);
  console.log(`total ${(performance.now() - started).toFixed(0)} ms`);
  if (failures.length > 0) {
    console.error(`kafka smoke FAILED: ${failures.join('; ')}`);
    process.exit(1);
  }
  console.log('kafka smoke passed');
}

// An exception leaves consumers connected, which would keep the process alive: exit instead.
await main().catch((err: unknown) => {
  console.error('kafka smoke FAILED:', err);
  process.exit(1);
});
