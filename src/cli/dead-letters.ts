/**
 * `npm run dead-letters -- <command>`: operator tool for events a consumer gave up on.
 *
 *   list [--limit N]             the newest dead letters (consumer, event, attempts, last error)
 *   replay <consumer> <eventId>  put one back in the retry queue
 *   replay --all                 put every dead letter back
 *
 * Reads DATABASE_URL like the server. A replay is idempotent: replaying what is not dead (or
 * already replayed and pending) does nothing, and consumers apply each event once anyway. Each
 * replay is in the audit log (actor `cli:<user>`), like one through the API.
 */
import { userInfo } from 'node:os';
import { loadConfig } from '../config.js';
import { openConfiguredDatabase } from '../db/client.js';
import { createDeadLetterTools } from '../container.js';
import { CONSUMER_NAMES } from '../modules/events/events.js';
import { CliError, databaseFailure, runCli } from './run.js';

const USAGE =
  'usage: npm run dead-letters -- list [--limit N] | replay <consumer> <eventId> | replay --all';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The command's arguments, checked before anything is opened. */
function parse(args: string[]) {
  const [command, ...rest] = args;
  if (command === 'list' && (rest.length === 0 || (rest.length === 2 && rest[0] === '--limit'))) {
    const limit = rest.length === 0 ? 50 : Number(rest[1]);
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > 10_000)
      throw new CliError(`--limit takes a whole number from 1 to 10000.\n${USAGE}`, 2);
    return { command: 'list' as const, limit };
  }
  if (command === 'replay' && rest.length === 1 && rest[0] === '--all')
    return { command: 'replay-all' as const };
  if (command === 'replay' && rest.length === 2) {
    const [consumer = '', eventId = ''] = rest;
    if (!(CONSUMER_NAMES as readonly string[]).includes(consumer))
      throw new CliError(
        `No consumer is named "${consumer}"; the consumers are ${CONSUMER_NAMES.join(', ')}.`,
        2,
      );
    if (!UUID.test(eventId))
      throw new CliError(
        `"${eventId}" is not an event id: event ids are UUIDs, as \`npm run dead-letters -- list\` shows them.`,
        2,
      );
    return { command: 'replay' as const, consumer, eventId: eventId.toLowerCase() };
  }
  throw new CliError(USAGE, 2);
}

await runCli('npm run dead-letters', async () => {
  const request = parse(process.argv.slice(2));
  const config = loadConfig();
  const database = openConfiguredDatabase(config, { poolSize: 2, holder: 'npm run dead-letters' });
  const deliveries = createDeadLetterTools(database);
  // Replays are recorded in the audit log as this machine's user, from the command line.
  const context = { actor: `cli:${userInfo().username}`, requestId: `cli:${process.pid}` };
  try {
    if (request.command === 'list') {
      const dead = await deliveries.listDead(request.limit);
      if (dead.length === 0) process.stdout.write('no dead letters\n');
      for (const letter of dead) {
        process.stdout.write(
          `${letter.deadSince}  ${letter.consumer}  ${letter.eventId}  ${letter.eventType}  attempts=${letter.attempts}  replays=${letter.replays}\n    ${letter.lastError ?? ''}\n`,
        );
      }
      return 0;
    }
    if (request.command === 'replay-all') {
      let replayed = 0;
      for (const letter of await deliveries.listDead(10_000)) {
        if (await deliveries.replay(letter.consumer, letter.eventId, context)) replayed++;
      }
      process.stdout.write(`replayed ${replayed} dead letter(s)\n`);
      return 0;
    }
    const { consumer, eventId } = request;
    if (!(await deliveries.replay(consumer, eventId, context)))
      throw new CliError(
        `Nothing to replay: ${consumer} ${eventId} is not a dead letter (never was, or already replayed); ` +
          '`npm run dead-letters -- list` shows the dead letters.',
      );
    process.stdout.write(`replayed ${consumer} ${eventId}\n`);
    return 0;
  } catch (error) {
    throw error instanceof CliError ? error : databaseFailure(error, database.description);
  } finally {
    await database.close();
  }
});
