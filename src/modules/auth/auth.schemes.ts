/**
 * The OpenAPI security schemes (what Swagger UI's Authorize button fills in), with the header
 * each one carries.
 */
export const securitySchemes = {
  clientId: {
    type: 'apiKey',
    in: 'header',
    name: 'Client-Id',
    description: 'AUTH_MODE=client-id (the seed): your user id, a positive integer.',
  },
  queueToken: {
    type: 'apiKey',
    in: 'header',
    name: 'Queue-Token',
    description: 'The token from POST /api/v1/queue/token.',
  },
  bearer: {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
    description:
      'AUTH_MODE=jwt: `sub` is the user id, role `admin` opens /api/v1/admin (`npm run token -- <userId> [--admin]`).',
  },
  operatorKey: {
    type: 'http',
    scheme: 'bearer',
    description:
      'AUTH_MODE=client-id: the operator key (OPERATOR_KEY, or the one the embedded database generated and the start-up banner printed) opens /api/v1/admin.',
  },
} as const;
export type SecurityScheme = keyof typeof securitySchemes;
/** An operation's OpenAPI `security`: any one of the requirements, each needing all its schemes. */
export type SecurityRequirements = readonly Partial<Record<SecurityScheme, readonly string[]>>[];
