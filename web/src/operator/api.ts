import { ApiError, request, type Body, type Data } from '../http.js';

/**
 * The operator endpoints (/api/v1/admin), typed from the generated OpenAPI types. The operator
 * key (AUTH_MODE=client-id) and an admin JWT (AUTH_MODE=jwt) are both sent as a bearer token.
 */
export type Venue = Data<'/api/v1/admin/venues', 'get'>[number];
export type VenueDetail = Data<'/api/v1/admin/venues/{venueId}', 'get'>;
export type VenueSection = Data<'/api/v1/admin/venues/{venueId}/sections/{sectionKey}', 'get'>;
export type VenueInput = Body<'/api/v1/admin/venues', 'post'>;
export type Concert = Data<'/api/v1/admin/concerts', 'get'>[number];
export type ConcertInput = Body<'/api/v1/admin/concerts', 'post'>;
export type ConcertPatch = Body<'/api/v1/admin/concerts/{concertId}', 'patch'>;
export type Report = Data<'/api/v1/admin/concerts/{concertId}/report', 'get'>;
export type ShowCancel = Data<'/api/v1/admin/concerts/{concertId}/cancel', 'get'>;
export type DeadLetter = Data<'/api/v1/admin/dead-letters', 'get'>[number];
export type AuditPage = Data<'/api/v1/admin/audit', 'get'>;
export type AuditEntry = AuditPage['entries'][number];
export type Cancellation = Data<'/api/v1/admin/reservations/{reservationId}/cancel', 'post'>;
/**
 * A concert's waiting room (docs/rooms.md): its settings, and the public view's live figures.
 * `powDifficulty` arrives with the proof-of-work settings; read when the server sends it.
 */
export type Room = Data<'/api/v1/admin/rooms/{concertId}', 'get'> & { powDifficulty?: number };
export type RoomPatch = Body<'/api/v1/admin/rooms/{concertId}', 'patch'> & {
  powDifficulty?: number;
};
export type RoomView = Data<'/api/v1/queue/rooms/{concertId}', 'get'> & { powDifficulty?: number };

/** The waiting line from GET /metrics (Prometheus text): no JSON route tells it today. */
export interface Line {
  waiting: number;
  active: number;
  activeLimit: number;
  admissionRate: number;
}

export function createOperatorApi(key: string) {
  const headers = { Authorization: `Bearer ${key}` };
  const call = <T>(method: string, path: string, body?: unknown) =>
    request<T>('../api/v1/admin', method, path, headers, body);
  const id = (value: number | string) => encodeURIComponent(String(value));
  return {
    venues: () => call<Venue[]>('GET', '/venues?limit=100'),
    /** Sections with their row and seat counts, never every seat (`seats=false`). */
    venue: (venueId: number) => call<VenueDetail>('GET', `/venues/${id(venueId)}?seats=false`),
    section: (venueId: number, key: string) =>
      call<VenueSection>('GET', `/venues/${id(venueId)}/sections/${id(key)}`),
    createVenue: (body: VenueInput) => call<Venue>('POST', '/venues', body),
    updateVenue: (venueId: number, body: { name: string; address: string }) =>
      call<Venue>('PATCH', `/venues/${id(venueId)}`, body),
    concerts: () => call<Concert[]>('GET', '/concerts?limit=100'),
    createConcert: (body: ConcertInput) => call<Concert>('POST', '/concerts', body),
    updateConcert: (concertId: number, body: ConcertPatch) =>
      call<Concert>('PATCH', `/concerts/${id(concertId)}`, body),
    report: (concertId: number) => call<Report>('GET', `/concerts/${id(concertId)}/report`),
    cancelShow: (concertId: number, reason: string) =>
      call<ShowCancel>('POST', `/concerts/${id(concertId)}/cancel`, reason ? { reason } : {}),
    showCancel: (concertId: number) => call<ShowCancel>('GET', `/concerts/${id(concertId)}/cancel`),
    cancelReservation: (reservationId: number) =>
      call<Cancellation>('POST', `/reservations/${id(reservationId)}/cancel`),
    deadLetters: () => call<DeadLetter[]>('GET', '/dead-letters?limit=100'),
    replay: (letter: DeadLetter) =>
      call<unknown>('POST', `/dead-letters/${id(letter.consumer)}/${id(letter.eventId)}/replay`),
    audit: (before?: number) =>
      call<AuditPage>('GET', `/audit?limit=20${before === undefined ? '' : `&before=${before}`}`),
    line: readLine,
    /** The concert's room, undefined when it has none (the house room serves it). */
    room: (concertId: number) => absentIfNotFound(call<Room>('GET', `/rooms/${id(concertId)}`)),
    createRoom: (concertId: number) => call<Room>('POST', '/rooms', { concertId }),
    updateRoom: (concertId: number, body: RoomPatch) =>
      call<Room>('PATCH', `/rooms/${id(concertId)}`, body),
    /** The room's public view (no key): its line, active shoppers and measured rate. */
    roomView: (concertId: number) =>
      absentIfNotFound(request<RoomView>('../api/v1/queue', 'GET', `/rooms/${id(concertId)}`, {})),
  };
}

export type OperatorApi = ReturnType<typeof createOperatorApi>;

/** ROOM_NOT_FOUND is an answer here (no room), not a refusal. */
async function absentIfNotFound<T>(reply: Promise<T>): Promise<T | undefined> {
  try {
    return await reply;
  } catch (error) {
    if (error instanceof ApiError && error.code === 'ROOM_NOT_FOUND') return undefined;
    throw error;
  }
}

/**
 * The waiting room's gauges from /metrics, summed over rooms; undefined when /metrics is off or
 * needs METRICS_KEY (a key of its own, not the operator's).
 */
async function readLine(): Promise<Line | undefined> {
  let text: string;
  try {
    const response = await fetch('../metrics');
    if (!response.ok) return undefined;
    text = await response.text();
  } catch {
    return undefined;
  }
  const gauge = (name: string): number => {
    let sum = 0;
    for (const match of text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'gm')))
      sum += Number(match[1]) || 0;
    return sum;
  };
  if (!text.includes('overture_queue_waiting')) return undefined;
  return {
    waiting: gauge('overture_queue_waiting'),
    active: gauge('overture_queue_active'),
    activeLimit: gauge('overture_queue_active_limit'),
    admissionRate: gauge('overture_queue_admission_rate'),
  };
}
