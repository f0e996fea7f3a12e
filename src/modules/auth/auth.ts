import { readFile } from 'node:fs/promises';
import type { FastifyRequest } from 'fastify';
import {
  createLocalJWKSet,
  errors as joseErrors,
  importSPKI,
  jwtVerify,
  type JWTPayload,
  type JWTVerifyGetKey,
} from 'jose';
import { Type } from 'typebox';
import type { Config } from '../../config.js';
import { AppError } from '../../shared/errors.js';
import { clientIdHeader, queueTokenHeader } from '../../shared/http.js';
import { MAX_ID } from '../../shared/ids.js';
import { operatorKeyMatcher, type OperatorKey } from './operator-key.js';
import { securitySchemes, type SecurityRequirements, type SecurityScheme } from './auth.schemes.js';

/** Who a request acts for. */
export interface Identity {
  userId: number;
  admin: boolean;
}

/** The operator behind an operator call, as the audit log names them. */
export interface Operator {
  /** `user:<sub>` (an admin JWT) or `operator-key:<fingerprint>` (AUTH_MODE=client-id). */
  actor: string;
}

const OPERATOR_BEARER = /^Bearer ([\x21-\x7E]{1,512})$/;

const CLIENT_ID = /^[1-9][0-9]{0,15}$/;
const BEARER = /^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)$/;

const authorizationHeader = Type.String({
  pattern: '^Bearer [A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+$',
  description:
    'Bearer <JWT>: `sub` is the user id, `exp` is required, role `admin` opens operator endpoints.',
});

function parseUserId(
  raw: unknown,
  field: string,
  code: 'CLIENT_ID_INVALID' | 'AUTH_INVALID',
): number {
  const userId = typeof raw === 'string' && CLIENT_ID.test(raw) ? Number(raw) : Number.NaN;
  if (!(userId <= MAX_ID))
    throw new AppError(code, `${field} must name a positive integer user id.`, { field });
  return userId;
}

/**
 * Why a verified JWT's lifetime is refused, or undefined. The lifetime is exp − iat (fixed when
 * the token was issued, so a ten-year token is refused on its first use too); without iat,
 * exp − now. An iat in the future beyond the tolerance is refused: no honest issuer writes one.
 */
function lifetimeProblem(
  payload: Pick<JWTPayload, 'iat' | 'exp'>,
  nowSeconds: number,
  limits: { maxAgeSeconds: number; toleranceSeconds: number },
): string | undefined {
  const exp = payload.exp ?? Number.POSITIVE_INFINITY;
  const tooLong = 'The JWT lives longer than this service accepts.';
  if (payload.iat === undefined)
    return exp - nowSeconds > limits.maxAgeSeconds + limits.toleranceSeconds ? tooLong : undefined;
  if (payload.iat > nowSeconds + limits.toleranceSeconds)
    return 'The JWT was issued in the future.';
  return exp - payload.iat > limits.maxAgeSeconds ? tooLong : undefined;
}

const isAdmin = (payload: JWTPayload): boolean =>
  payload.role === 'admin' || (Array.isArray(payload.roles) && payload.roles.includes('admin'));

async function loadKey(
  config: Config,
): Promise<JWTVerifyGetKey | Uint8Array | Awaited<ReturnType<typeof importSPKI>> | undefined> {
  if (config.JWT_ALGORITHM === 'HS256') {
    return config.JWT_SECRET === '' ? undefined : new TextEncoder().encode(config.JWT_SECRET);
  }
  if (config.JWT_JWKS_FILE !== '') {
    return createLocalJWKSet(
      JSON.parse(await readFile(config.JWT_JWKS_FILE, 'utf8')) as Parameters<
        typeof createLocalJWKSet
      >[0],
    );
  }
  if (config.JWT_PUBLIC_KEY_FILE !== '')
    return importSPKI(await readFile(config.JWT_PUBLIC_KEY_FILE, 'utf8'), config.JWT_ALGORITHM);
  return undefined;
}

/**
 * Where a request's identity is kept once worked out: on the request itself (a WeakMap entry per
 * request cost a server under load its share of garbage collection, decision 0012).
 */
const IDENTITY = Symbol('identity');
type MemoizedRequest = FastifyRequest & { [IDENTITY]?: Promise<Identity | undefined> };

/**
 * Identity of requests. AUTH_MODE=client-id trusts the seed's Client-Id header. AUTH_MODE=jwt
 * verifies `Authorization: Bearer <JWT>` (signature, exp required, a lifetime of at most
 * JWT_MAX_AGE_SECONDS, iss/aud when configured, clocks compared within
 * JWT_CLOCK_TOLERANCE_SECONDS) and takes the user from `sub`; a Client-Id that disagrees is refused.
 * Operator endpoints need a JWT with the admin role (AUTH_MODE=jwt) or the operator key
 * (AUTH_MODE=client-id; docs/decisions/0032). The identity is worked out once per request.
 */
export async function createAuth(config: Config, operatorKey: OperatorKey = { source: 'none' }) {
  const key = await loadKey(config);
  const operatorMatcher = 'key' in operatorKey ? operatorKeyMatcher(operatorKey.key) : undefined;
  const jwtMode = config.AUTH_MODE === 'jwt';
  const lifetimeLimits = {
    maxAgeSeconds: config.JWT_MAX_AGE_SECONDS,
    toleranceSeconds: config.JWT_CLOCK_TOLERANCE_SECONDS,
  };

  async function verify(request: FastifyRequest): Promise<Identity | undefined> {
    const header = request.headers.authorization;
    if (header === undefined) return undefined;
    const token = BEARER.exec(header)?.[1];
    if (!token || !key)
      throw new AppError('AUTH_INVALID', 'The Authorization header is not a usable bearer JWT.', {
        field: 'Authorization',
      });
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, key as Uint8Array, {
        algorithms: [config.JWT_ALGORITHM],
        requiredClaims: ['exp', 'sub'],
        clockTolerance: config.JWT_CLOCK_TOLERANCE_SECONDS,
        ...(config.JWT_ISSUER === '' ? {} : { issuer: config.JWT_ISSUER }),
        ...(config.JWT_AUDIENCE === '' ? {} : { audience: config.JWT_AUDIENCE }),
      }));
    } catch (error) {
      const reason =
        error instanceof joseErrors.JWTExpired
          ? 'The JWT has expired.'
          : 'The JWT is not valid for this service.';
      throw new AppError('AUTH_INVALID', reason, { field: 'Authorization' });
    }
    const problem = lifetimeProblem(payload, Math.floor(Date.now() / 1000), lifetimeLimits);
    if (problem) throw new AppError('AUTH_INVALID', problem, { field: 'Authorization' });
    return { userId: parseUserId(payload.sub, 'sub', 'AUTH_INVALID'), admin: isAdmin(payload) };
  }

  async function resolve(request: FastifyRequest): Promise<Identity | undefined> {
    const clientId = request.headers['client-id'];
    const claimed =
      clientId === undefined ? undefined : parseUserId(clientId, 'Client-Id', 'CLIENT_ID_INVALID');
    if (!jwtMode) return claimed === undefined ? undefined : { userId: claimed, admin: false };
    const proven = await verify(request);
    if (!proven) return undefined;
    if (claimed !== undefined && claimed !== proven.userId) {
      throw new AppError('CLIENT_ID_MISMATCH', 'Client-Id names a different user than the JWT.', {
        field: 'Client-Id',
      });
    }
    return proven;
  }

  const memo = (request: FastifyRequest): Promise<Identity | undefined> => {
    const memoized = request as MemoizedRequest;
    let identity = memoized[IDENTITY];
    if (!identity) {
      identity = resolve(request).then((found) => {
        // The request log names the user (src/http/request-log.ts).
        if (found) request.userId = found.userId;
        return found;
      });
      memoized[IDENTITY] = identity;
    }
    return identity;
  };

  /** A verified JWT with the admin role (AUTH_MODE=jwt operators). */
  async function admin(request: FastifyRequest): Promise<Identity> {
    const identity = await verify(request);
    if (identity) request.userId = identity.userId;
    if (!identity)
      throw new AppError('AUTH_REQUIRED', 'Send an admin JWT: Authorization: Bearer <JWT>.', {
        field: 'Authorization',
      });
    if (!identity.admin)
      throw new AppError('ADMIN_REQUIRED', 'This endpoint needs the admin role.', {
        field: 'Authorization',
      });
    return identity;
  }

  const required = (): AppError =>
    jwtMode
      ? new AppError('AUTH_REQUIRED', 'Send Authorization: Bearer <JWT>.', {
          field: 'Authorization',
        })
      : new AppError('CLIENT_ID_REQUIRED', 'Send your user id in the Client-Id header.', {
          field: 'Client-Id',
        });

  return {
    mode: config.AUTH_MODE,

    /** The user the request acts for; refused when it proves none. */
    async user(request: FastifyRequest): Promise<Identity> {
      const identity = await memo(request);
      if (!identity) throw required();
      return identity;
    },

    /**
     * For queue-token routes: with AUTH_MODE=jwt the JWT is required (the token then must be this
     * user's); with client-id the token alone names the user (seed behaviour) and a Client-Id, if
     * sent, must match it.
     */
    async tokenOwner(request: FastifyRequest): Promise<number | undefined> {
      const identity = await memo(request);
      if (jwtMode && !identity) throw required();
      return identity?.userId;
    },

    /**
     * Operator endpoints: AUTH_MODE=jwt, a verified JWT with the admin role; AUTH_MODE=client-id,
     * the operator key (compared in constant time), or refused when there is none.
     */
    async operator(request: FastifyRequest): Promise<Operator> {
      if (jwtMode) return { actor: `user:${(await admin(request)).userId}` };
      if (!operatorMatcher)
        throw new AppError(
          'OPERATOR_ROUTES_OFF',
          'Operator endpoints are off: set OPERATOR_KEY (at least 32 characters) and restart.',
        );
      const header = request.headers.authorization;
      if (header === undefined)
        throw new AppError(
          'OPERATOR_KEY_REQUIRED',
          'Send the operator key: Authorization: Bearer <OPERATOR_KEY>.',
          { field: 'Authorization' },
        );
      const presented = OPERATOR_BEARER.exec(header)?.[1];
      if (presented === undefined || !operatorMatcher.matches(presented))
        throw new AppError('OPERATOR_KEY_INVALID', 'The operator key is wrong.', {
          field: 'Authorization',
        });
      return { actor: `operator-key:${operatorMatcher.fingerprint}` };
    },

    /** A stable key for per-user rate limits, never throwing (falls back to the client address). */
    async rateKey(request: FastifyRequest): Promise<string> {
      try {
        const identity = await memo(request);
        if (identity) return `user:${identity.userId}`;
      } catch {
        // An unusable identity is refused by the route itself; limit it by address meanwhile.
      }
      const token = request.headers['queue-token'];
      return typeof token === 'string' ? `token:${token}` : `ip:${request.ip}`;
    },

    /** Headers of routes acting for a user. */
    userHeaders: jwtMode
      ? Type.Object({
          authorization: authorizationHeader,
          'client-id': Type.Optional(clientIdHeader),
        })
      : Type.Object({ 'client-id': clientIdHeader }),

    /** Headers of routes behind the queue. */
    tokenHeaders: jwtMode
      ? Type.Object({
          'queue-token': queueTokenHeader,
          authorization: authorizationHeader,
          'client-id': Type.Optional(clientIdHeader),
        })
      : Type.Object({
          'queue-token': queueTokenHeader,
          'client-id': Type.Optional(clientIdHeader),
        }),

    adminHeaders: jwtMode
      ? Type.Object({ authorization: authorizationHeader })
      : Type.Object({
          // Optional and free-form here: the operator guard answers its own codes.
          authorization: Type.Optional(
            Type.String({ description: 'Bearer <OPERATOR_KEY>: opens operator endpoints.' }),
          ),
        }),

    /** OpenAPI security of routes acting for a user, of routes behind the queue, of operators'. */
    userSecurity: (jwtMode ? [{ bearer: [] }] : [{ clientId: [] }]) as SecurityRequirements,
    tokenSecurity: (jwtMode
      ? [{ queueToken: [], bearer: [] }]
      : [{ queueToken: [] }]) as SecurityRequirements,
    adminSecurity: (jwtMode ? [{ bearer: [] }] : [{ operatorKey: [] }]) as SecurityRequirements,
    /** The schemes these use (Client-Id names nobody with AUTH_MODE=jwt, nor a JWT without it). */
    securitySchemes: (jwtMode
      ? { queueToken: securitySchemes.queueToken, bearer: securitySchemes.bearer }
      : {
          clientId: securitySchemes.clientId,
          queueToken: securitySchemes.queueToken,
          operatorKey: securitySchemes.operatorKey,
        }) as Partial<typeof securitySchemes> as Record<
      string,
      (typeof securitySchemes)[SecurityScheme]
    >,

    /** Error codes identity can produce on user routes and token routes (for the OpenAPI document). */
    userErrors: jwtMode
      ? (['AUTH_REQUIRED', 'AUTH_INVALID', 'CLIENT_ID_INVALID', 'CLIENT_ID_MISMATCH'] as const)
      : (['CLIENT_ID_REQUIRED', 'CLIENT_ID_INVALID'] as const),
    tokenErrors: jwtMode
      ? (['AUTH_REQUIRED', 'AUTH_INVALID', 'CLIENT_ID_INVALID', 'CLIENT_ID_MISMATCH'] as const)
      : (['CLIENT_ID_INVALID'] as const),
    /** Error codes of the operator guard. */
    operatorErrors: jwtMode
      ? (['AUTH_REQUIRED', 'AUTH_INVALID', 'ADMIN_REQUIRED'] as const)
      : operatorMatcher
        ? (['OPERATOR_KEY_REQUIRED', 'OPERATOR_KEY_INVALID'] as const)
        : (['OPERATOR_ROUTES_OFF'] as const),
  };
}

export type Auth = Awaited<ReturnType<typeof createAuth>>;
