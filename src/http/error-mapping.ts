import type { FastifyError } from 'fastify';
import { isDatabaseUnavailable } from '../db/sql.js';
import { isRedisUnavailable } from '../redis/client.js';
import { AppError, isAppError, type ErrorCode } from '../shared/errors.js';

/** What a client is told instead of an error: a code of the catalogue, a message and details. */
type Refusal = readonly [code: ErrorCode, message: string, details?: Record<string, unknown>];

const refuse = ([code, message, details]: Refusal): AppError =>
  new AppError(code, message, details && { ...details });

const NOT_JSON: Refusal = ['INVALID_REQUEST', 'The body is not valid JSON.', { field: 'body' }];

/** Fastify's own errors, by their code. */
const fastifyErrors = new Map<string, Refusal>([
  [
    'FST_ERR_CTP_INVALID_MEDIA_TYPE',
    ['UNSUPPORTED_MEDIA_TYPE', 'Send the body as application/json.', { field: 'Content-Type' }],
  ],
  [
    'FST_ERR_CTP_BODY_TOO_LARGE',
    ['PAYLOAD_TOO_LARGE', 'The request body is too large.', { field: 'body' }],
  ],
  [
    'FST_ERR_CTP_EMPTY_JSON_BODY',
    ['INVALID_REQUEST', 'The JSON body is empty.', { field: 'body' }],
  ],
  ['FST_ERR_CTP_INVALID_JSON_BODY', NOT_JSON],
  ['FST_ERR_RATE_LIMITED', ['RATE_LIMITED', 'Too many requests; slow down.']],
]);

interface HeaderRefusals {
  /** The header's name as clients write it (error details name it so). */
  name: string;
  missing?: readonly [ErrorCode, string];
  invalid?: readonly [ErrorCode, string];
}

/** Headers with codes of their own when they fail validation; any other is INVALID_REQUEST. */
const headerErrors = new Map<string, HeaderRefusals>([
  [
    'client-id',
    {
      name: 'Client-Id',
      missing: ['CLIENT_ID_REQUIRED', 'Send your user id in the Client-Id header.'],
      invalid: ['CLIENT_ID_INVALID', 'Client-Id must be a positive integer user id.'],
    },
  ],
  [
    'authorization',
    {
      name: 'Authorization',
      missing: ['AUTH_REQUIRED', 'Send Authorization: Bearer <JWT>.'],
      invalid: ['AUTH_INVALID', 'The Authorization header is not a bearer JWT.'],
    },
  ],
  [
    'queue-token',
    {
      name: 'Queue-Token',
      missing: ['QUEUE_TOKEN_REQUIRED', 'Send your queue token in the Queue-Token header.'],
      invalid: ['QUEUE_TOKEN_INVALID', 'The Queue-Token is malformed.'],
    },
  ],
  ['idempotency-key', { name: 'Idempotency-Key' }],
]);

/** Maps a schema validation failure to a stable code naming the offending field. */
function validationError(error: FastifyError): AppError {
  const [first] = error.validation ?? [];
  const params = (first?.params ?? {}) as { missingProperty?: string; additionalProperty?: string };
  const path = (first?.instancePath ?? '').split('/').filter(Boolean).join('.');
  const property = params.missingProperty ?? params.additionalProperty;
  const field = [path, property].filter(Boolean).join('.') || error.validationContext || 'request';
  if (error.validationContext === 'headers') {
    const header = field.split('.')[0] ?? field;
    const known = headerErrors.get(header);
    const name = known?.name ?? header;
    const own = params.missingProperty !== undefined ? known?.missing : known?.invalid;
    if (own) return refuse([...own, { field: name }]);
    return new AppError('INVALID_REQUEST', `Header ${name} ${first?.message ?? 'is invalid'}.`, {
      field: name,
    });
  }
  const reason =
    params.additionalProperty !== undefined
      ? 'is not a known field'
      : (first?.message ?? 'is invalid');
  return new AppError('INVALID_REQUEST', `${field} ${reason}.`, { field });
}

/** Any error → the public error: stable code, no internals. */
export function toAppError(error: unknown): AppError {
  if (isAppError(error)) return error;
  const fastifyError = error as Partial<FastifyError>;
  if (fastifyError.validation) return validationError(fastifyError as FastifyError);
  const known = fastifyError.code === undefined ? undefined : fastifyErrors.get(fastifyError.code);
  if (known) return refuse(known);
  if (error instanceof SyntaxError) return refuse(NOT_JSON);
  if (
    typeof fastifyError.statusCode === 'number' &&
    fastifyError.statusCode >= 400 &&
    fastifyError.statusCode < 500
  ) {
    return new AppError('INVALID_REQUEST', fastifyError.message ?? 'Bad request.', {
      field: 'request',
    });
  }
  if (isDatabaseUnavailable(error))
    return new AppError('SERVICE_UNAVAILABLE', 'The database is unavailable; retry shortly.');
  if (isRedisUnavailable(error))
    return new AppError('SERVICE_UNAVAILABLE', 'The waiting room is unavailable; retry shortly.');
  return new AppError('INTERNAL_ERROR', 'Something went wrong on our side; it has been logged.');
}
