/** The service's HTTP API as the harness calls it outside the measured load (set-up, one-at-a-time). */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { Pool } from 'undici';

const STREAM_PATH = '/api/v1/queue/token/stream';

/** The operator key of the scenarios that call /api/v1/admin (a server started with it). */
export const OPERATOR_KEY = 'overture-bench-operator-key-0123456789abcdef';

export interface Envelope<T> {
  code: string;
  message: string;
  data: T;
}

export interface TokenData {
  token: string;
  status: 'WAITING' | 'ACTIVE' | 'EXPIRED';
  position: number;
}

export interface Reply<T> {
  status: number;
  body: Envelope<T>;
}

export interface Concert {
  concertId: number;
  isAvailable: boolean;
}

export interface Seat {
  seatId: number;
  price: number;
  isAvailable: boolean;
}

export interface Section {
  sectionKey: string;
  free: number;
}

export interface Reservation {
  reservationId: number;
  seatId: number;
  price: number;
}

/**
 * What a caller learns of every answered request: its step (the method's name), status, time
 * (sent to parsed), and of that time the JSON.parse of the body on the caller's event loop.
 */
export type Observer = (step: string, reply: Reply<unknown>, ms: number, parseMs: number) => void;

/** A request's answer before its body is parsed. */
interface Sent {
  status: number;
  bytes: Buffer;
  sentAt: number;
}

/** What the observer is given for a success whose body the caller reads from its bytes. */
const UNPARSED: Envelope<null> = { code: 'SUCCESS', message: '', data: null };

const sectionSeatsPath = (concertId: number, key: string): string =>
  `/api/v1/reservations/concerts/${concertId}/sections/${key}/seats`;

export class Api {
  private readonly pool: Pool;

  constructor(
    readonly baseUrl: string,
    connections = 64,
    private readonly observe?: Observer,
  ) {
    this.pool = new Pool(baseUrl, {
      connections,
      headersTimeout: 60_000,
      bodyTimeout: 60_000,
      keepAliveTimeout: 60_000,
    });
  }

  async call<T>(
    step: string,
    method: 'GET' | 'POST' | 'DELETE',
    path: string,
    headers: Record<string, string> = {},
    body?: unknown,
  ): Promise<Reply<T>> {
    return this.parse<T>(step, await this.send(method, path, headers, body));
  }

  /** One request, its body read whole but not parsed, and when it was sent. */
  private async send(
    method: 'GET' | 'POST' | 'DELETE',
    path: string,
    headers: Record<string, string>,
    body?: unknown,
  ): Promise<Sent> {
    const sentAt = performance.now();
    const response = await this.pool.request({
      method,
      path,
      headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const bytes = Buffer.from(await response.body.arrayBuffer());
    return { status: response.statusCode, bytes, sentAt };
  }

  /** The reply's body parsed, and the observer told (the parse timed apart). */
  private parse<T>(step: string, { status, bytes, sentAt }: Sent): Reply<T> {
    const parsedAt = performance.now();
    const reply = { status, body: JSON.parse(bytes.toString('utf8')) as Envelope<T> };
    const doneAt = performance.now();
    this.observe?.(step, reply, doneAt - sentAt, doneAt - parsedAt);
    return reply;
  }

  /** Joins the house room, or with `concertId` that concert's own room. */
  enter(userId: number, concertId?: number): Promise<Reply<TokenData>> {
    const headers = { 'client-id': String(userId) };
    const body = concertId === undefined ? undefined : { concertId };
    return this.call('join', 'POST', '/api/v1/queue/token', headers, body);
  }

  poll(token: string): Promise<Reply<Omit<TokenData, 'token'>>> {
    return this.call('poll', 'GET', '/api/v1/queue/token', { 'queue-token': token });
  }

  /** Joins the line, or throws: set-up that must succeed. */
  async join(userId: number, concertId?: number): Promise<TokenData> {
    const reply = await this.enter(userId, concertId);
    if (reply.status !== 201)
      throw new Error(`join of user ${userId}: ${reply.status} ${reply.body.code}`);
    return reply.body.data;
  }

  async status(token: string): Promise<TokenData> {
    const reply = await this.poll(token);
    if (reply.status !== 200) throw new Error(`status: ${reply.status} ${reply.body.code}`);
    return { token, ...reply.body.data };
  }

  leave(token: string): Promise<Reply<unknown>> {
    return this.call('leave', 'DELETE', '/api/v1/queue/token', { 'queue-token': token });
  }

  concerts(token: string): Promise<Reply<Concert[]>> {
    return this.call('concerts', 'GET', '/api/v1/reservations/concerts', { 'queue-token': token });
  }

  seats(token: string, concertId: number): Promise<Reply<{ availableSeats: Seat[] }>> {
    const path = `/api/v1/reservations/concerts/${concertId}/seats`;
    return this.call('seats', 'GET', path, { 'queue-token': token });
  }

  sections(token: string, concertId: number): Promise<Reply<{ sections: Section[] }>> {
    const path = `/api/v1/reservations/concerts/${concertId}/sections`;
    return this.call('sections', 'GET', path, { 'queue-token': token });
  }

  /** One section's seats; the step is "seats", like the whole map's. */
  sectionSeats(token: string, concertId: number, key: string): Promise<Reply<{ seats: Seat[] }>> {
    return this.call('seats', 'GET', sectionSeatsPath(concertId, key), { 'queue-token': token });
  }

  /**
   * One section's seats as the server sent them (the step "seats"): the body is read whole but
   * parsed only when it is an error — the buyer picks its seat from the bytes (seat-bytes.ts).
   */
  async sectionSeatBytes(
    token: string,
    concertId: number,
    key: string,
  ): Promise<{ status: number; bytes: Buffer }> {
    const sent = await this.send('GET', sectionSeatsPath(concertId, key), { 'queue-token': token });
    const { status, bytes, sentAt } = sent;
    if (status !== 200) this.parse('seats', sent);
    else this.observe?.('seats', { status, body: UNPARSED }, performance.now() - sentAt, 0);
    return { status, bytes };
  }

  hold(token: string, concertId: number, seatId: number): Promise<Reply<unknown>> {
    const path = `/api/v1/reservations/concerts/${concertId}/seats/hold`;
    const body = { seatHoldUuid: randomUUID(), concertId, seatId };
    return this.call('hold', 'POST', path, { 'queue-token': token }, body);
  }

  charge(userId: number, amount: number): Promise<Reply<unknown>> {
    const headers = { 'client-id': String(userId), 'idempotency-key': randomUUID() };
    return this.call('charge', 'POST', '/api/v1/balance/charge', headers, { amount });
  }

  pay(token: string, seatId: number): Promise<Reply<Reservation>> {
    const body = { reservationUuid: randomUUID(), seatId };
    return this.call('pay', 'POST', '/api/v1/reservations', { 'queue-token': token }, body);
  }

  /** An operator endpoint (OPERATOR_KEY), or throws: set-up that must succeed. */
  async admin<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    const headers = { authorization: `Bearer ${OPERATOR_KEY}` };
    const reply = await this.call<T>('admin', method, `/api/v1/admin${path}`, headers, body);
    if (reply.status >= 300)
      throw new Error(
        `${method} /admin${path}: ${reply.status} ${reply.body.code} ${reply.body.message}`,
      );
    return reply.body.data;
  }

  /** The first concert on sale and its first `n` free seats, or an error saying what is missing. */
  async freeSeats(token: string, n: number): Promise<({ concertId: number } & Seat)[]> {
    const concert = (await this.concerts(token)).body.data.find((item) => item.isAvailable);
    if (!concert) throw new Error('no concert on sale');
    const seats = (await this.seats(token, concert.concertId)).body.data.availableSeats;
    const free = seats.filter((item) => item.isAvailable).slice(0, n);
    if (free.length < n)
      throw new Error(`${free.length} free seat(s) in concert ${concert.concertId}, ${n} needed`);
    return free.map((seat) => ({ concertId: concert.concertId, ...seat }));
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}

export interface Stream {
  events: number;
  lastData: string;
  lastAt: number;
  ended: boolean;
  close: () => void;
  /** Called at each event (when set), with its arrival time (performance.now()). */
  onEvent?: (at: number) => void;
}

/** A live-position stream (Server-Sent Events) on a connection of its own; resolves at its first event. */
export function openStream(base: URL, token: string): Promise<Stream> {
  return new Promise((resolve, reject) => {
    const stream: Stream = { events: 0, lastData: '', lastAt: 0, ended: false, close: () => {} };
    const headers = { accept: 'text/event-stream', 'queue-token': token };
    const request = http.request(
      { host: base.hostname, port: base.port, path: STREAM_PATH, headers, agent: false },
      (response) => {
        if (response.statusCode !== 200)
          reject(new Error(`stream answered ${response.statusCode}`));
        let buffer = '';
        response.on('data', (chunk: Buffer) => {
          buffer += chunk.toString();
          let end: number;
          while ((end = buffer.indexOf('\n\n')) >= 0) {
            const data = /^data: (.*)$/m.exec(buffer.slice(0, end))?.[1];
            buffer = buffer.slice(end + 2);
            if (data === undefined) continue;
            stream.events++;
            stream.lastData = data;
            stream.lastAt = performance.now();
            stream.onEvent?.(stream.lastAt);
            if (stream.events === 1) resolve(stream);
          }
        });
        // Ended before its first event: refused (a no-op once resolved).
        const ended = () => {
          stream.ended = true;
          reject(new Error('stream ended before its first event'));
        };
        response.on('end', ended);
        response.on('error', ended);
      },
    );
    request.on('error', (error) => {
      stream.ended = true;
      reject(error);
    });
    stream.close = () => request.destroy();
    request.end();
  });
}

/** Runs `work` over `items` with at most `concurrency` at once; results in input order. */
export async function mapLimit<T, R>(
  items: readonly T[],
  concurrency: number,
  work: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const lanes = Array.from({ length: Math.min(concurrency, items.length) }, async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index]!, index);
    }
  });
  await Promise.all(lanes);
  return results;
}

/** Joins the given users; returns their tokens in the same order. */
export function joinAll(
  api: Api,
  userIds: readonly number[],
  concurrency = 64,
): Promise<TokenData[]> {
  return mapLimit(userIds, concurrency, (userId) => api.join(userId));
}

/** Waits until every token is ACTIVE (polling the ones that are not), up to `timeoutMs`. */
export async function untilAllActive(
  api: Api,
  tokens: TokenData[],
  timeoutMs: number,
): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let pending = tokens.filter((token) => token.status !== 'ACTIVE');
  while (pending.length > 0 && Date.now() < deadline) {
    await sleep(250);
    const polled = await mapLimit(pending, 64, (token) => api.status(token.token));
    pending = polled.filter((token) => token.status !== 'ACTIVE');
  }
  return tokens.length - pending.length;
}

export const range = (first: number, count: number): number[] =>
  Array.from({ length: count }, (_, index) => first + index);
