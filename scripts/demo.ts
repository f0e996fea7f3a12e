/**
 * `npm run demo`: walks the whole buyer flow against a running server and prints each step.
 *
 *   npm start            # in one terminal
 *   npm run demo         # in another (BASE_URL defaults to http://127.0.0.1:3000)
 *
 * Options (environment): BASE_URL, DEMO_USER (a user id; random by default), JWT_SECRET (when the
 * server runs with AUTH_MODE=jwt: the demo mints its own HS256 token and sends it as Bearer).
 */
import { randomInt, randomUUID } from 'node:crypto';
import { mintToken } from '../src/modules/auth/mint.js';

const baseUrl = (process.env.BASE_URL ?? 'http://127.0.0.1:3000').replace(/\/$/, '');
const userId = Number(process.env.DEMO_USER ?? randomInt(100_000, 1_000_000));

interface Envelope<T> {
  code: string;
  message: string;
  data: T;
}

let step = 0;
const say = (text: string) => process.stdout.write(`\n${++step}. ${text}\n`);
const show = (label: string, value: unknown) =>
  process.stdout.write(`   ${label} ${JSON.stringify(value)}\n`);

async function call<T>(
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: unknown,
): Promise<{ status: number } & Envelope<T>> {
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const envelope = (await response.json()) as Envelope<T>;
  process.stdout.write(`   ${method} ${path} → ${response.status} ${envelope.code}\n`);
  return { status: response.status, ...envelope };
}

function expectOk<T>(reply: { status: number } & Envelope<T>): T {
  if (reply.status >= 400) throw new Error(`${reply.code}: ${reply.message}`);
  return reply.data;
}

async function main(): Promise<void> {
  process.stdout.write(`Overture demo against ${baseUrl} as user ${userId}\n`);
  const secret = process.env.JWT_SECRET ?? '';
  const proof: Record<string, string> =
    secret === ''
      ? {}
      : {
          authorization: `Bearer ${await mintToken({ JWT_ALGORITHM: 'HS256', JWT_SECRET: secret, JWT_ISSUER: '', JWT_AUDIENCE: '' }, { userId })}`,
        };
  const client = { 'client-id': String(userId), ...proof };

  say('Join the waiting room');
  const joined = expectOk(
    await call<{ token: string; status: string; position: number }>(
      'POST',
      '/api/v1/queue/token',
      client,
    ),
  );
  show('token:', joined);
  const queue = { 'queue-token': joined.token, ...proof };

  say('Join again (a refresh): same token, same place');
  show('again:', expectOk(await call('POST', '/api/v1/queue/token', client)));

  say('Wait until admitted (polling the position)');
  let status = joined.status;
  if (status === 'ACTIVE')
    show('status:', 'ACTIVE at once (the line was empty and there was room)');
  while (status !== 'ACTIVE') {
    const polled = expectOk(
      await call<{ status: string; position: number }>('GET', '/api/v1/queue/token', queue),
    );
    show('status:', polled);
    if (polled.status === 'EXPIRED') throw new Error('token expired while waiting');
    status = polled.status;
    if (status !== 'ACTIVE') await new Promise((resolve) => setTimeout(resolve, 1000));
  }

  say('List the concerts on sale');
  const concerts = expectOk(
    await call<
      { concertId: number; concertTitle: string; concertDateTime: string; isAvailable: boolean }[]
    >('GET', '/api/v1/reservations/concerts', queue),
  );
  for (const concert of concerts) show(concert.isAvailable ? '  on sale:' : '  closed: ', concert);
  const concert = concerts.find((c) => c.isAvailable);
  if (!concert) throw new Error('no concert has a free seat');

  say(`Look at the seat map of "${concert.concertTitle}"`);
  const seats = expectOk(
    await call<{
      availableSeats: { seatId: number; seatNumber: number; price: number; isAvailable: boolean }[];
    }>('GET', `/api/v1/reservations/concerts/${concert.concertId}/seats`, queue),
  ).availableSeats;
  const free = seats.filter((seat) => seat.isAvailable);
  show(
    'free seats:',
    free.map((seat) => seat.seatNumber),
  );
  const seat = free[0];
  if (!seat) throw new Error('no free seat');

  say(`Hold seat ${seat.seatNumber} (price ${seat.price} won)`);
  const holdKey = randomUUID();
  const holdBody = { seatHoldUuid: holdKey, concertId: concert.concertId, seatId: seat.seatId };
  show(
    'hold:',
    expectOk(
      await call(
        'POST',
        `/api/v1/reservations/concerts/${concert.concertId}/seats/hold`,
        queue,
        holdBody,
      ),
    ),
  );
  say('Send the same hold again (a retry): the first result comes back');
  show(
    'replay:',
    expectOk(
      await call(
        'POST',
        `/api/v1/reservations/concerts/${concert.concertId}/seats/hold`,
        queue,
        holdBody,
      ),
    ),
  );

  say('Try to pay with an empty balance');
  const reservationKey = randomUUID();
  const refused = await call('POST', '/api/v1/reservations', queue, {
    reservationUuid: reservationKey,
    seatId: seat.seatId,
  });
  show('refused:', { code: refused.code, message: refused.message });

  say('Charge the balance (with an Idempotency-Key, safe to retry)');
  const chargeKey = randomUUID();
  show(
    'balance:',
    expectOk(
      await call(
        'POST',
        '/api/v1/balance/charge',
        { ...client, 'idempotency-key': chargeKey },
        { amount: seat.price },
      ),
    ),
  );
  show(
    'retried:',
    expectOk(
      await call(
        'POST',
        '/api/v1/balance/charge',
        { ...client, 'idempotency-key': chargeKey },
        { amount: seat.price },
      ),
    ),
  );

  say('Pay for the held seat');
  const reservation = expectOk(
    await call('POST', '/api/v1/reservations', queue, {
      reservationUuid: reservationKey,
      seatId: seat.seatId,
    }),
  );
  show('reservation:', reservation);
  say('Send the same payment again: the original reservation, no second charge');
  show(
    'replay:',
    expectOk(
      await call('POST', '/api/v1/reservations', queue, {
        reservationUuid: reservationKey,
        seatId: seat.seatId,
      }),
    ),
  );

  say('The queue token is spent, the balance is what is left');
  show('token:', expectOk(await call('GET', '/api/v1/queue/token', queue)));
  show('balance:', expectOk(await call('GET', '/api/v1/balance', client)));
  show('my reservations:', expectOk(await call('GET', '/api/v1/reservations', client)));

  say('Popular concerts (counted after the payment committed)');
  await new Promise((resolve) => setTimeout(resolve, 1500));
  show('popular:', expectOk(await call('GET', '/api/v1/reservations/concerts/popular')));
  process.stdout.write('\nDemo complete.\n');
}

main().catch((error: unknown) => {
  process.stderr.write(
    `\nDemo failed: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  if (error instanceof TypeError)
    process.stderr.write(`Is the server running at ${baseUrl}? Start it with: npm start\n`);
  process.exit(1);
});
