/** The public HTTP API, as the page calls it: relative paths, the envelope unwrapped. */

export type Identity = { kind: 'client'; userId: number } | { kind: 'jwt'; token: string };

export class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

export interface QueueState {
  token?: string;
  status: string;
  position: number;
  expiresAt: string;
  estimatedWaitSeconds?: number | null;
}
export interface Concert {
  concertId: number;
  concertTitle: string;
  concertVenue: string;
  concertDateTime: string;
  isAvailable: boolean;
}
export interface Seat {
  seatId: number;
  seatNumber: number;
  price: number;
  isAvailable: boolean;
  state: 'free' | 'held' | 'sold';
  sectionKey: string | null;
  section: string | null;
  row: string | null;
  label: string | null;
  priceCategory: string | null;
}
export interface Section {
  sectionKey: string;
  name: string;
  priceCategory: string;
  price: number;
  capacity: number;
  free: number;
  held: number;
  sold: number;
}
export interface Hold {
  concertId: number;
  seatId: number;
  seatNumber: number;
  expiresAt: string;
  price: number;
  label: string;
}
export interface Ticket {
  reservationId: number;
  concertId: number;
  concertTitle: string;
  concertDateTime: string;
  seatNumber: number;
  price: number;
  status: 'CONFIRMED' | 'CANCELLED';
  refundAmount: number | null;
}

/**
 * A random (version 4) UUID for idempotency keys. crypto.randomUUID exists only in secure contexts
 * (https, localhost), and the page is also opened over plain HTTP by address.
 */
export function uuid(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x40;
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
  const hex = [...bytes].map((byte) => byte.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export function identityHeaders(identity: Identity): Record<string, string> {
  return identity.kind === 'client'
    ? { 'Client-Id': String(identity.userId) }
    : { Authorization: `Bearer ${identity.token}` };
}

export function createApi(identity: Identity, queueToken: () => string | undefined) {
  async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { ...identityHeaders(identity) };
    const token = queueToken();
    if (token !== undefined) headers['Queue-Token'] = token;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    let response: Response;
    try {
      response = await fetch(`./api/v1${path}`, {
        method,
        headers,
        body: body === undefined ? null : JSON.stringify(body),
      });
    } catch {
      throw new ApiError('NETWORK', 'network', 0);
    }
    const reply = (await response.json().catch(() => ({}))) as {
      code?: string;
      message?: string;
      data?: T;
    };
    if (!response.ok || reply.code !== 'SUCCESS')
      throw new ApiError(reply.code ?? 'NETWORK', reply.message ?? '', response.status);
    return reply.data as T;
  }
  const concertPath = (concertId: number) => `/reservations/concerts/${concertId}`;
  return {
    join: () => call<QueueState & { token: string }>('POST', '/queue/token'),
    /** The live fields once, as JSON (the stream route without Accept: text/event-stream). */
    status: () => call<QueueState>('GET', '/queue/token/stream'),
    concerts: () => call<Concert[]>('GET', '/reservations/concerts'),
    sections: async (concertId: number) =>
      (await call<{ sections: Section[] }>('GET', `${concertPath(concertId)}/sections`)).sections,
    seats: async (concertId: number, sectionKey?: string) => {
      if (sectionKey !== undefined)
        return (
          await call<{ seats: Seat[] }>(
            'GET',
            `${concertPath(concertId)}/sections/${encodeURIComponent(sectionKey)}/seats`,
          )
        ).seats;
      return (await call<{ availableSeats: Seat[] }>('GET', `${concertPath(concertId)}/seats`))
        .availableSeats;
    },
    hold: (concertId: number, seatId: number) =>
      call<{ seatId: number; seatNumber: number; expiresAt: string }>(
        'POST',
        `${concertPath(concertId)}/seats/hold`,
        { seatHoldUuid: uuid(), concertId, seatId },
      ),
    release: (concertId: number) => call<unknown>('DELETE', `${concertPath(concertId)}/seats/hold`),
    pay: (seatId: number, reservationUuid: string) =>
      call<{ reservationId: number; balance: number }>('POST', '/reservations', {
        reservationUuid,
        seatId,
      }),
    balance: () => call<{ balance: number }>('GET', '/balance'),
    charge: (amount: number) => call<{ balance: number }>('POST', '/balance/charge', { amount }),
    tickets: () => call<Ticket[]>('GET', '/reservations'),
    cancel: (reservationId: number) =>
      call<{ refundAmount: number }>('POST', `/reservations/${reservationId}/cancel`),
  };
}

export type Api = ReturnType<typeof createApi>;
