import { randomUUID } from 'node:crypto';

export interface Reply<T = unknown> {
  status: number;
  code: string;
  message: string;
  data: T;
  headers: Headers;
}

export interface TokenData {
  token: string;
  status: 'WAITING' | 'ACTIVE' | 'EXPIRED';
  position: number;
  expiresAt: string | null;
}

/** A join of a sale's room: its statuses include the pre-queue's and a sold-out sale's. */
export interface RoomTokenData extends Omit<TokenData, 'status'> {
  status: string;
  receiptId: string | null;
}

export interface Seat {
  seatId: number;
  seatNumber: number;
  price: number;
  isAvailable: boolean;
  state: 'free' | 'held' | 'sold';
}

/** A thin HTTP client over fetch for the Overture API, used by API and concurrency tests. */
export function createClient(baseUrl: string) {
  async function call<T = unknown>(
    method: string,
    path: string,
    options: { headers?: Record<string, string>; body?: unknown; rawBody?: string } = {},
  ): Promise<Reply<T>> {
    const headers: Record<string, string> = { ...options.headers };
    let body: string | undefined;
    if (options.rawBody !== undefined) body = options.rawBody;
    else if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers['content-type'] ??= 'application/json';
    }
    const response = await fetch(`${baseUrl}${path}`, { method, headers, body });
    const text = await response.text();
    let json: { code?: string; message?: string; data?: T };
    try {
      json = JSON.parse(text) as typeof json;
    } catch {
      throw new Error(
        `${method} ${path} answered ${response.status} with non-JSON: ${text.slice(0, 200)}`,
      );
    }
    return {
      status: response.status,
      code: json.code ?? '',
      message: json.message ?? '',
      data: json.data as T,
      headers: response.headers,
    };
  }

  const token = (value: string) => ({ 'queue-token': value });

  return {
    call,
    join: (userId: number) =>
      call<TokenData>('POST', '/api/v1/queue/token', { headers: { 'client-id': String(userId) } }),
    /** Joins the room of a sale (`{"concertId": N}`). */
    joinRoom: (userId: number, concertId: number) =>
      call<RoomTokenData>('POST', '/api/v1/queue/token', {
        headers: { 'client-id': String(userId) },
        body: { concertId },
      }),
    /** The operator routes with `key`: each call's data, or an Error naming a refusal. */
    operator:
      (key: string) =>
      async <T>(method: string, path: string, body?: unknown): Promise<T> => {
        const reply = await call<T>(method, `/api/v1/admin${path}`, {
          headers: { authorization: `Bearer ${key}` },
          ...(body === undefined ? {} : { body }),
        });
        if (reply.status >= 300)
          throw new Error(`${method} ${path}: ${reply.status} ${reply.code}`);
        return reply.data;
      },
    status: (queueToken: string) =>
      call<Omit<TokenData, 'token'>>('GET', '/api/v1/queue/token', { headers: token(queueToken) }),
    leave: (queueToken: string) =>
      call('DELETE', '/api/v1/queue/token', { headers: token(queueToken) }),
    concerts: (queueToken: string) =>
      call<{ concertId: number; isAvailable: boolean }[]>('GET', '/api/v1/reservations/concerts', {
        headers: token(queueToken),
      }),
    seats: (queueToken: string, concertId: number) =>
      call<{ concertId: number; availableSeats: Seat[] }>(
        'GET',
        `/api/v1/reservations/concerts/${concertId}/seats`,
        {
          headers: token(queueToken),
        },
      ),
    hold: (
      queueToken: string,
      concertId: number,
      seatId: number,
      seatHoldUuid: string = randomUUID(),
    ) =>
      call<{ concertId: number; seatId: number; seatNumber: number; expiresAt: string }>(
        'POST',
        `/api/v1/reservations/concerts/${concertId}/seats/hold`,
        { headers: token(queueToken), body: { seatHoldUuid, concertId, seatId } },
      ),
    release: (queueToken: string, concertId: number) =>
      call('DELETE', `/api/v1/reservations/concerts/${concertId}/seats/hold`, {
        headers: token(queueToken),
      }),
    pay: (queueToken: string, seatId: number, reservationUuid: string = randomUUID()) =>
      call<{
        reservationId: number;
        concertId: number;
        seatId: number;
        price: number;
        balance: number;
      }>('POST', '/api/v1/reservations', {
        headers: token(queueToken),
        body: { reservationUuid, seatId },
      }),
    /** Pays several held seats of one concert together (ticket limit above 1). */
    payMany: (queueToken: string, seatIds: number[], reservationUuid: string = randomUUID()) =>
      call<{
        concertId: number;
        total: number;
        balance: number;
        reservedAt: string;
        reservations: {
          reservationId: number;
          seatId: number;
          seatNumber: number;
          price: number;
        }[];
      }>('POST', '/api/v1/reservations', {
        headers: token(queueToken),
        body: { reservationUuid, seatIds },
      }),
    balance: (userId: number) =>
      call<{ balance: number }>('GET', '/api/v1/balance', {
        headers: { 'client-id': String(userId) },
      }),
    charge: (userId: number, amount: unknown, idempotencyKey?: string) =>
      call<{ balance: number }>('POST', '/api/v1/balance/charge', {
        headers: {
          'client-id': String(userId),
          ...(idempotencyKey ? { 'idempotency-key': idempotencyKey } : {}),
        },
        body: { amount },
      }),
    mine: (userId: number) =>
      call<{ reservationId: number; seatId: number }[]>('GET', '/api/v1/reservations', {
        headers: { 'client-id': String(userId) },
      }),
    popular: () =>
      call<{ concertId: number; reservedCount: number }[]>(
        'GET',
        '/api/v1/reservations/concerts/popular',
      ),

    /** Joins and, if needed, polls until ACTIVE (fails after `timeoutMs`). */
    async activeToken(userId: number, timeoutMs = 5_000): Promise<string> {
      const joined = await this.join(userId);
      if (joined.status !== 201) throw new Error(`join ${userId}: ${joined.status} ${joined.code}`);
      const deadline = Date.now() + timeoutMs;
      let status = joined.data.status;
      while (status !== 'ACTIVE') {
        if (Date.now() > deadline)
          throw new Error(`user ${userId} not admitted within ${timeoutMs} ms (${status})`);
        await new Promise((resolve) => setTimeout(resolve, 50));
        status = (await this.status(joined.data.token)).data.status;
      }
      return joined.data.token;
    },
  };
}

export type TestClient = ReturnType<typeof createClient>;
