import { afterAll, beforeAll } from 'vitest';
import { createClient, type TestClient } from './client.js';
import { createTestDatabase, type TestDatabase } from './db.js';
import { spawnServer, type ServerProcess } from './process.js';
import { testQueueBackend, type QueueBackend } from './queue-backend.js';
import { sharedWaitingRoom, streamSettings, type SharedWaitingRoom } from './server.js';
import { madeBeforeAll } from './suite.js';

/** Server processes sharing one database and one waiting room, and a client of each. */
export interface ServerProcesses {
  db: TestDatabase;
  /** The waiting room they share (on Redis: one key prefix); make an inspector of it here. */
  room: SharedWaitingRoom;
  processes: ServerProcess[];
  /** One client per process, in the same order. */
  clients: TestClient[];
}

/**
 * Called at the top of a describe (like useTestServer, test/support/suite.ts): a database of the
 * describe's own and `count` real server processes (src/main.ts) on it, sharing one waiting room
 * on TEST_QUEUE_BACKEND (sharedWaitingRoom), with `env` added; stopped (SIGTERM, waited for) and
 * dropped after it. The describe's own hooks run after this set-up and before this clean-up.
 * `backend` overrides TEST_QUEUE_BACKEND; on stream the processes share the test process's Kafka
 * mock (one consumer group: the room's key prefix) and the set-up waits until each is ready
 * (GET /health/ready: its member assigned and caught up).
 */
export function useServerProcesses(
  env: Record<string, string>,
  count = 3,
  backend: QueueBackend = testQueueBackend(),
): ServerProcesses {
  let made: ServerProcesses | undefined;
  let db: TestDatabase | undefined;
  let room: SharedWaitingRoom | undefined;
  const processes: ServerProcess[] = [];
  beforeAll(async () => {
    db = await createTestDatabase();
    room = sharedWaitingRoom(backend);
    const stream = backend === 'stream' ? await streamSettings() : {};
    const processEnv = { ...room.env, ...stream, DATABASE_URL: db.url, ...env };
    // One after another: three starts at once can outlast the start timeout on a loaded machine.
    for (let i = 0; i < count; i++) processes.push(await spawnServer(processEnv));
    const clients = processes.map((process) => createClient(process.url));
    if (backend === 'stream') await untilReady(clients);
    made = { db, room, processes, clients };
  }, 150_000);
  afterAll(async () => {
    for (const process of processes) process.child.kill('SIGTERM');
    await Promise.all(processes.map((process) => process.exited));
    await room?.cleanup();
    await db?.drop();
  });
  return madeBeforeAll('The server processes', () => made);
}

/** Until every process answers GET /health/ready 200 (a stream member joins its group in ~3 s). */
async function untilReady(clients: TestClient[]): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (const client of clients)
    while ((await client.call('GET', '/health/ready')).status !== 200) {
      if (Date.now() > deadline) throw new Error('a server process never got ready');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
}
