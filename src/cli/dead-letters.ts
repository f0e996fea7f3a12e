/**
 * `npm run dead-letters -- <command>`: operator tool for events a consumer gave up on.
 *
 *   list [--limit N]             the newest dead letters (consumer, event, attempts, last error)
 *   replay <consumer> <eventId>  put one back in the retry queue
 *   replay --all                 put every dead letter back
 *
 * Reads DATABASE_URL like the server. A replay is idempotent: replaying what is not dead (or
 * already replayed and pending) does nothing, and consumers apply each event once anyway.
 */
import { loadConfig } from '../config.js';
import { openCommandDatabase } from './database.js';
import { createDeliveriesStore } from '../modules/events/deliveries.store.js';

const [command, ...rest] = process.argv.slice(2);
const config = loadConfig();
const database = openCommandDatabase(config, { poolSize: 2, holder: 'npm run dead-letters' });
const deliveries = createDeliveriesStore(database);

async function main(): Promise<number> {
  if (command === 'list') {
    const limitIndex = rest.indexOf('--limit');
    const limit = limitIndex >= 0 ? Number(rest[limitIndex + 1]) : 50;
    const dead = await deliveries.listDead(Number.isSafeInteger(limit) && limit > 0 ? limit : 50);
    if (dead.length === 0) process.stdout.write('no dead letters\n');
    for (const letter of dead) {
      process.stdout.write(
        `${letter.deadSince}  ${letter.consumer}  ${letter.eventId}  ${letter.eventType}  attempts=${letter.attempts}  replays=${letter.replays}\n    ${letter.lastError ?? ''}\n`,
      );
    }
    return 0;
  }
  if (command === 'replay' && rest[0] === '--all') {
    let replayed = 0;
    for (const letter of await deliveries.listDead(10_000)) {
      if (await deliveries.replay(letter.consumer, letter.eventId)) replayed++;
    }
    process.stdout.write(`replayed ${replayed} dead letter(s)\n`);
    return 0;
  }
  if (command === 'replay' && rest.length === 2) {
    const [consumer, eventId] = rest as [string, string];
    const replayed = await deliveries.replay(consumer, eventId);
    process.stdout.write(
      replayed
        ? `replayed ${consumer} ${eventId}\n`
        : `nothing to replay: ${consumer} ${eventId} is not a dead letter\n`,
    );
    return replayed ? 0 : 1;
  }
  process.stderr.write(
    'usage: npm run dead-letters -- list [--limit N] | replay <consumer> <eventId> | replay --all\n',
  );
  return 2;
}

try {
  process.exitCode = await main();
} finally {
  await database.close();
}
