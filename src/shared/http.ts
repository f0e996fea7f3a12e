import { Type, type TSchema } from 'typebox';
import { CLIENT_ID_PATTERN, QUEUE_TOKEN_PATTERN } from './ids.js';
import { errorCatalog, type ErrorCode } from './errors.js';

/** Every reply is `{ code, message, data }`; success has code SUCCESS. */
export const ok = <T>(data: T, message = 'OK') => ({ code: 'SUCCESS' as const, message, data });

export const successEnvelope = <T extends TSchema>(data: T, example: unknown, message = 'OK') =>
  Type.Object(
    {
      code: Type.Literal('SUCCESS'),
      message: Type.String(),
      data,
    },
    { examples: [{ code: 'SUCCESS', message, data: example }] },
  );

const errorData = Type.Union([Type.Null(), Type.Object({}, { additionalProperties: true })], {
  description: 'null, or details such as `field` (the offending input) and limits.',
});

/** Codes any route can answer with, whatever it does. */
const everywhere: ErrorCode[] = ['INVALID_REQUEST', 'SERVICE_UNAVAILABLE', 'INTERNAL_ERROR'];

/** Codes of every route that takes a JSON body (a body can be too slow, too big or not JSON). */
export const bodyErrors: ErrorCode[] = [
  'REQUEST_TIMEOUT',
  'PAYLOAD_TOO_LARGE',
  'UNSUPPORTED_MEDIA_TYPE',
];

const exampleData = (code: ErrorCode): Record<string, unknown> | null => {
  if (code === 'INVALID_REQUEST') return { field: 'seatId' };
  if (code.startsWith('CLIENT_ID')) return { field: 'Client-Id' };
  if (code.startsWith('QUEUE_TOKEN')) return { field: 'Queue-Token' };
  return null;
};

/**
 * The route's response schemas: the success reply plus one entry per error status, each listing
 * the codes the route can answer with (this is what /openapi.json shows).
 */
export function responses(
  success: { status: number; schema: TSchema; description: string; replayable?: boolean },
  errors: ErrorCode[],
): Record<number, TSchema> {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of new Set([...errors, ...everywhere])) {
    const { status } = errorCatalog[code];
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  // A replay of an idempotency key answers as the first request did: same status, same data.
  const description = success.replayable
    ? `${success.description} A replay of the same idempotency key answers the same: this status, the first result, message \`Replayed\`.`
    : success.description;
  const result: Record<number, TSchema> = {
    [success.status]: { ...success.schema, description },
  };
  for (const [status, codes] of [...byStatus].sort(([a], [b]) => a - b)) {
    result[status] = Type.Object(
      {
        code: Type.Enum(codes),
        message: Type.String(),
        data: errorData,
      },
      {
        description: codes
          .map((code) => `\`${code}\`: ${errorCatalog[code].description}`)
          .join('\n\n'),
        examples: codes.map((code) => ({
          code,
          message: errorCatalog[code].description,
          data: exampleData(code),
        })),
      },
    );
  }
  return result;
}

/**
 * No example: where it is a parameter it is optional (it must then match the token or JWT), and
 * Swagger UI would send a prefilled example along with whatever user was authorized.
 */
export const clientIdHeader = Type.String({
  pattern: CLIENT_ID_PATTERN,
  description: 'The user id (a positive integer), as in the seed.',
});

export const queueTokenHeader = Type.String({
  pattern: QUEUE_TOKEN_PATTERN,
  description: 'The token from POST /api/v1/queue/token.',
  examples: ['q8Vd3J0vW2c7cX1mQ0yZ6n4HkLr9Tt5A'],
});

export const idempotencyKeyHeader = Type.String({
  pattern: '^[\\x21-\\x7E]{1,128}$',
  description: 'Optional: the same key returns the first result and never charges twice.',
  examples: ['7f7c4a2e-charge-1'],
});

export const id = (description: string) =>
  Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER, description, examples: [1] });

/** Keyset paging of a newest-first list: at most `limit` items older than the id `before`. */
export const pageQuery = (items: string, defaultLimit: number) => ({
  limit: Type.Integer({ minimum: 1, maximum: 500, default: defaultLimit }),
  before: Type.Optional(id(`${items} with a smaller id than this.`)),
});

/**
 * A UUID in its canonical 8-4-4-4-12 hex form (ajv's `uuid` format also accepts `urn:uuid:`,
 * which PostgreSQL does not). Compare keys after toLowerCase(): PostgreSQL stores uuids so.
 */
const UUID_PATTERN =
  '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$';

export const uuid = (description: string) =>
  Type.String({
    pattern: UUID_PATTERN,
    description,
    examples: ['3f0a8c4e-5b1d-4d7e-9a2b-6c8e1f4a7b90'],
  });

/**
 * A client-chosen idempotency key (a UUID). No example on purpose: Swagger UI would prefill that
 * one fixed key, and the second hold or payment tried with it (another seat) is refused as a
 * reuse; without one it fills in a random key matching the pattern.
 */
export const idempotencyKey = (description: string) =>
  Type.String({
    pattern: UUID_PATTERN,
    description: `${description} A fresh UUID for each new attempt; the same one again is a replay.`,
  });

export const isoTime = (description: string) =>
  Type.String({ format: 'date-time', description, examples: ['2026-12-08T10:00:00.000Z'] });
