import type { DrawPage } from './draw.js';
import { ApiError, request, uuid, type Data } from './http.js';

/** The public HTTP API, as the page calls it: relative paths, the envelope unwrapped. */

export type Identity = { kind: 'client'; userId: number } | { kind: 'jwt'; token: string };

export { ApiError, uuid } from './http.js';

/** The server's DTOs, from the generated OpenAPI types (docs/decisions/0055). */
/**
 * The fields the token view gains with scheduled openings, estimates and sold-out rooms
 * (PRE_QUEUE, SOLD_OUT, receiptId, opensAt, ahead, seatsLeft): read when the server sends them,
 * so the page works before and after they arrive. Unknown fields are ignored.
 */
interface TokenExtras {
  receiptId?: string | null;
  opensAt?: string | null;
  ahead?: number;
  seatsLeft?: number | null;
}
type Widened<T> = Omit<T, 'status'> & { status: string } & TokenExtras;
export type QueueState = Widened<Data<'/api/v1/queue/token/stream', 'get'>>;
export type Joined = Widened<Data<'/api/v1/queue/token', 'post'>>;
/** A room's public view; `soldOut` and `powDifficulty` arrive with sold-out rooms and proof of work. */
export type RoomView = Data<'/api/v1/queue/rooms/{concertId}', 'get'> & {
  soldOut?: boolean;
  powDifficulty?: number;
};
export interface Challenge {
  challenge: string;
  difficulty: number;
  expiresAt: string;
}
/** The join's body: the house room ({}), or a concert's room, with a solved challenge if asked. */
export interface JoinBody {
  concertId?: number;
  pow?: { challenge: string; solution: string };
}
/** A concert of the public list (GET /api/v1/queue/rooms, decision 0064): no token needed. */
export type Concert = Data<'/api/v1/queue/rooms', 'get'>['concerts'][number];
export type Seat = Data<
  '/api/v1/reservations/concerts/{concertId}/sections/{sectionKey}/seats',
  'get'
>['seats'][number];
export type Section = Data<
  '/api/v1/reservations/concerts/{concertId}/sections',
  'get'
>['sections'][number];
export type Ticket = Data<'/api/v1/reservations', 'get'>[number];
type Held = Data<'/api/v1/reservations/concerts/{concertId}/seats/hold', 'post'>;

/** A hold as the page keeps it (the reply and what the map said of the seat). */
export interface Hold {
  concertId: number;
  seatId: number;
  seatNumber: number;
  expiresAt: string;
  price: number;
  label: string;
}

export function identityHeaders(identity: Identity): Record<string, string> {
  return identity.kind === 'client'
    ? { 'Client-Id': String(identity.userId) }
    : { Authorization: `Bearer ${identity.token}` };
}

export function createApi(identity: Identity, queueToken: () => string | undefined) {
  function call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { ...identityHeaders(identity) };
    const token = queueToken();
    if (token !== undefined) headers['Queue-Token'] = token;
    return request<T>('./api/v1', method, path, headers, body);
  }
  const concertPath = (concertId: number) => `/reservations/concerts/${concertId}`;
  return {
    join: (body?: JoinBody) => call<Joined>('POST', '/queue/token', body),
    /** A concert's room (public view), undefined when the concert has none (the house room). */
    room: async (concertId: number) => {
      try {
        return await request<RoomView>('./api/v1', 'GET', `/queue/rooms/${concertId}`, {});
      } catch (error) {
        if (error instanceof ApiError && error.code === 'ROOM_NOT_FOUND') return undefined;
        throw error;
      }
    },
    /**
     * The concerts on sale, opening soon or sold out (public, no queue token: read before any
     * join). The page shows the first 100 by show time.
     */
    onSale: async () =>
      (
        await request<Data<'/api/v1/queue/rooms', 'get'>>(
          './api/v1',
          'GET',
          '/queue/rooms?pageSize=100',
          {},
        )
      ).concerts,
    /** One page of a room's opening draw (public). */
    draw: (concertId: number, page: number) =>
      request<DrawPage>('./api/v1', 'GET', `/queue/rooms/${concertId}/draw?page=${page}`, {}),
    challenge: (concertId: number) =>
      request<Challenge>('./api/v1', 'GET', `/queue/rooms/${concertId}/challenge`, {}),
    /** Leaves a line with that line's token (not necessarily the current one). */
    leave: (token: string) =>
      request<unknown>('./api/v1', 'DELETE', '/queue/token', {
        ...identityHeaders(identity),
        'Queue-Token': token,
      }),
    /**
     * The live fields once, as JSON (the stream route without Accept: text/event-stream); for a
     * token the line does not know yet (a pre-queue entry, `status` PRE_QUEUE when the page knows
     * it) the status route, which knows it.
     */
    status: (status?: string) =>
      (status === 'PRE_QUEUE'
        ? call<QueueState>('GET', '/queue/token')
        : call<QueueState>('GET', '/queue/token/stream')
      ).catch((error: unknown) => {
        if (!(error instanceof ApiError) || error.code !== 'QUEUE_TOKEN_INVALID') throw error;
        return call<QueueState>('GET', '/queue/token');
      }),
    sections: async (concertId: number) =>
      (
        await call<Data<'/api/v1/reservations/concerts/{concertId}/sections', 'get'>>(
          'GET',
          `${concertPath(concertId)}/sections`,
        )
      ).sections,
    seats: async (concertId: number, sectionKey?: string) => {
      if (sectionKey !== undefined)
        return (
          await call<
            Data<'/api/v1/reservations/concerts/{concertId}/sections/{sectionKey}/seats', 'get'>
          >('GET', `${concertPath(concertId)}/sections/${encodeURIComponent(sectionKey)}/seats`)
        ).seats;
      return (
        await call<Data<'/api/v1/reservations/concerts/{concertId}/seats', 'get'>>(
          'GET',
          `${concertPath(concertId)}/seats`,
        )
      ).availableSeats;
    },
    hold: (concertId: number, seatId: number) =>
      call<Held>('POST', `${concertPath(concertId)}/seats/hold`, {
        seatHoldUuid: uuid(),
        concertId,
        seatId,
      }),
    release: (concertId: number) => call<unknown>('DELETE', `${concertPath(concertId)}/seats/hold`),
    pay: (seatId: number, reservationUuid: string) =>
      call<Data<'/api/v1/reservations', 'post'>>('POST', '/reservations', {
        reservationUuid,
        seatId,
      }),
    balance: () => call<Data<'/api/v1/balance', 'get'>>('GET', '/balance'),
    charge: (amount: number) =>
      call<Data<'/api/v1/balance/charge', 'post'>>('POST', '/balance/charge', { amount }),
    tickets: () => call<Ticket[]>('GET', '/reservations'),
    cancel: (reservationId: number) =>
      call<Data<'/api/v1/reservations/{reservationId}/cancel', 'post'>>(
        'POST',
        `/reservations/${reservationId}/cancel`,
      ),
  };
}

export type Api = ReturnType<typeof createApi>;
