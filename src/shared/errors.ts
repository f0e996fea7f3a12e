import { POW_ERRORS } from '../modules/queue/queue.pow.js';

/**
 * Every error a client can see. The code is a stable contract (clients switch on it);
 * the status is fixed per code so the README table and OpenAPI stay true.
 */
export const errorCatalog = {
  INVALID_REQUEST: {
    status: 400,
    description: 'The body, a parameter or a header is malformed; `data.field` names it.',
  },
  CLIENT_ID_REQUIRED: { status: 401, description: 'The Client-Id header is missing.' },
  CLIENT_ID_INVALID: { status: 400, description: 'Client-Id is not a positive integer user id.' },
  AUTH_REQUIRED: { status: 401, description: 'Send Authorization: Bearer <JWT> (AUTH_MODE=jwt).' },
  AUTH_INVALID: {
    status: 401,
    description: 'The JWT is malformed, forged, expired or not for this service.',
  },
  CLIENT_ID_MISMATCH: {
    status: 403,
    description: 'Client-Id names a different user than the JWT.',
  },
  ADMIN_REQUIRED: {
    status: 403,
    description: 'Operator endpoints need a JWT with the admin role (AUTH_MODE=jwt).',
  },
  OPERATOR_KEY_REQUIRED: {
    status: 401,
    description:
      'Send the operator key: Authorization: Bearer <OPERATOR_KEY> (AUTH_MODE=client-id).',
  },
  OPERATOR_KEY_INVALID: { status: 401, description: 'The operator key is wrong.' },
  OPERATOR_ROUTES_OFF: {
    status: 403,
    description:
      'Operator endpoints are off: no OPERATOR_KEY is configured (AUTH_MODE=client-id on PostgreSQL).',
  },
  METRICS_KEY_INVALID: {
    status: 401,
    description: 'GET /metrics needs Authorization: Bearer <METRICS_KEY>; it is missing or wrong.',
  },
  QUEUE_TOKEN_REQUIRED: { status: 401, description: 'The Queue-Token header is missing.' },
  QUEUE_TOKEN_INVALID: { status: 401, description: 'The Queue-Token is malformed or unknown.' },
  QUEUE_TOKEN_NOT_ACTIVE: { status: 403, description: 'The token is still WAITING in line.' },
  QUEUE_TOKEN_EXPIRED: {
    status: 403,
    description: 'The token has expired (time ran out, paid, or left); queue again.',
  },
  QUEUE_TOKEN_USER_MISMATCH: {
    status: 403,
    description: 'Client-Id names a different user than the token.',
  },
  QUEUE_TOKEN_WRONG_ROOM: {
    status: 403,
    description:
      "The token is for another concert's waiting room (a room's token books only its concert; a house-room token only concerts without a room).",
  },
  CONCERT_NOT_FOUND: { status: 404, description: 'No concert has this id.' },
  ROOM_NOT_FOUND: { status: 404, description: 'The concert has no waiting room of its own.' },
  ROOM_EXISTS: { status: 409, description: 'The concert already has a waiting room.' },
  ROOM_CLOSED: {
    status: 409,
    description: 'The waiting room is closed to new joins (tokens in line keep their places).',
  },
  POW_REQUIRED: {
    status: 428,
    description:
      'The room requires a proof of work to join: solve GET /api/v1/queue/rooms/{concertId}/challenge and send `pow`.',
  },
  POW_UNAVAILABLE: {
    status: 409,
    description:
      'Rooms cannot require a proof of work here: POW_SECRET is not set (PostgreSQL without it, decision 0051).',
  },
  ...POW_ERRORS,
  ROOM_NOT_OPEN_YET: {
    status: 409,
    description:
      "The room's pre-queue has not opened yet (the room view gives opensAt and preQueueOpensAt).",
  },
  OPENING_IN_PAST: { status: 422, description: 'A room opening time must be in the future.' },
  PRE_QUEUE_NOT_BEFORE_OPENING: {
    status: 422,
    description: 'preQueueOpensAt must be before opensAt (and needs an opening).',
  },
  ROOM_ALREADY_OPENED: {
    status: 409,
    description: 'The room has opened: its opening and pre-queue times can no longer change.',
  },
  OPENING_CANNOT_BE_CLEARED: {
    status: 409,
    description:
      'The lottery commitment of the opening is published: the opening may be moved, never removed.',
  },
  SEAT_NOT_FOUND: { status: 404, description: 'No seat has this id (in this concert).' },
  HOLD_NOT_FOUND: { status: 404, description: 'You hold no seat here to release.' },
  CONCERT_ENDED: {
    status: 409,
    description: 'The show has already started; its seats are no longer sold.',
  },
  SALE_NOT_OPEN: {
    status: 409,
    description: 'The sale of this concert has not opened yet (see its saleOpensAt).',
  },
  SALE_CLOSED: {
    status: 409,
    description: 'The sale of this concert has closed (its saleClosesAt has passed).',
  },
  SECTION_NOT_FOUND: {
    status: 404,
    description: 'The concert (or venue) has no section with this key.',
  },
  CONCERT_CANCELLED: {
    status: 409,
    description:
      'An operator cancelled the show: its seats are no longer held or sold, and the concert can no longer be edited or deleted.',
  },
  TICKET_LIMIT_REACHED: {
    status: 409,
    description:
      'You already hold or bought as many seats of this concert as its ticket limit per buyer allows (`data.limit`); pay or release a hold first. Refunded seats do not count.',
  },
  SEAT_ALREADY_HELD: { status: 409, description: 'Someone else holds the seat right now.' },
  SEAT_ALREADY_RESERVED: { status: 409, description: 'The seat is sold.' },
  HOLD_REQUIRED: {
    status: 409,
    description: 'Paying needs your live hold on this seat; you have none.',
  },
  HOLD_EXPIRED: {
    status: 409,
    description: 'Your hold on this seat expired before payment; nothing was charged.',
  },
  SHOW_CANCEL_NOT_FOUND: {
    status: 404,
    description: 'The concert was not cancelled (or does not exist): it has no show-cancel job.',
  },
  RESERVATION_NOT_FOUND: {
    status: 404,
    description: 'No reservation has this id (for a buyer: none of yours has).',
  },
  REFUND_CUTOFF_PASSED: {
    status: 409,
    description:
      'The refund cut-off of this concert has passed (its hours before the show); nothing was changed.',
  },
  INSUFFICIENT_BALANCE: {
    status: 402,
    description: 'The balance is below the seat price; nothing was charged.',
  },
  BALANCE_LIMIT_EXCEEDED: {
    status: 409,
    description: 'The charge would take the balance above its maximum.',
  },
  VENUE_NOT_FOUND: { status: 404, description: 'No venue has this id.' },
  INVALID_SEAT_MAP: {
    status: 400,
    description:
      'The seat map breaks a rule (duplicate names or labels, too many seats); `data.field` names the section or row.',
  },
  VENUE_IN_USE: {
    status: 409,
    description:
      'A concert uses this venue: its seat map can no longer change (name and address can).',
  },
  INVALID_PRICE_CATEGORIES: {
    status: 400,
    description:
      'The price categories do not give every section of the venue exactly one category; `data.field` names the category or section.',
  },
  INVALID_SALE_SETTINGS: {
    status: 400,
    description:
      'The sale window or show time breaks saleOpensAt < saleClosesAt ≤ showAt (or the show is past); `data.field` names it.',
  },
  CONCERT_HAS_SALES: {
    status: 409,
    description:
      'A seat of the concert is held or sold: its seats, prices and venue can no longer change, and it cannot be deleted.',
  },
  DEAD_LETTER_NOT_FOUND: {
    status: 404,
    description: 'No dead letter has this consumer and event id (or it was already replayed).',
  },
  IDEMPOTENCY_KEY_REUSED: {
    status: 422,
    description: 'This idempotency key was used for a different request.',
  },
  NOT_FOUND: { status: 404, description: 'No such route.' },
  REQUEST_TIMEOUT: {
    status: 408,
    description:
      'The request was not received in full within the time limit; the connection is closed.',
  },
  PAYLOAD_TOO_LARGE: { status: 413, description: 'The body is larger than the limit.' },
  UNSUPPORTED_MEDIA_TYPE: {
    status: 415,
    description: 'Bodies must be application/json in UTF-8.',
  },
  RATE_LIMITED: { status: 429, description: 'Too many requests; see Retry-After.' },
  TOO_MANY_STREAMS: {
    status: 429,
    description:
      'Too many live streams open for this user or client address; close one (another tab) first.',
  },
  SERVICE_UNAVAILABLE: {
    status: 503,
    description: 'A dependency is down or the server is shutting down; retry.',
  },
  INTERNAL_ERROR: {
    status: 500,
    description: 'A bug: logged with the request id, never with internals in the reply.',
  },
} as const satisfies Record<string, { status: number; description: string }>;

export type ErrorCode = keyof typeof errorCatalog;

export class AppError extends Error {
  readonly status: number;

  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    // A refusal (4xx) is an answer, not a fault: no stack is captured for it (a storm's 9,999
    // SEAT_ALREADY_HELD spent 2% of the server's CPU collecting stacks, decision 0012). A 5xx
    // keeps its stack for the log.
    const limit = Error.stackTraceLimit;
    if (errorCatalog[code].status < 500) Error.stackTraceLimit = 0;
    super(message);
    Error.stackTraceLimit = limit;
    this.name = 'AppError';
    this.status = errorCatalog[code].status;
  }
}

export const isAppError = (error: unknown): error is AppError => error instanceof AppError;
