import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifySchema } from 'fastify';
import fp from 'fastify-plugin';
import type { TObject, TSchema } from 'typebox';
import type { Auth } from '../modules/auth/auth.js';
import type { SecurityRequirements, SecurityScheme } from '../modules/auth/auth.schemes.js';
import type { App } from '../shared/app-types.js';

/** The request header each security scheme carries (lower case, as in route schemas). */
const headerOf: Record<SecurityScheme, string> = {
  clientId: 'client-id',
  queueToken: 'queue-token',
  bearer: 'authorization',
  operatorKey: 'authorization',
};

/**
 * The route's schema as documented: headers its security schemes carry are left out of the
 * parameters (validation still requires them). Described twice, Swagger UI would ask for them
 * in every operation besides the Authorize dialog, and send both.
 */
function withoutSchemeHeaders(schema: FastifySchema): FastifySchema {
  const security: SecurityRequirements | undefined = schema.security;
  const headers = schema.headers as TObject | undefined;
  if (!security || !headers) return schema;
  const carried = new Set(
    security.flatMap((requirement) =>
      Object.keys(requirement).map((scheme) => headerOf[scheme as SecurityScheme]),
    ),
  );
  const properties: Record<string, TSchema> = Object.fromEntries(
    Object.entries(headers.properties).filter(([name]) => !carried.has(name)),
  );
  // TypeBox leaves `required` out when every property is optional, whatever its type says.
  const required = (headers.required as readonly string[] | undefined) ?? [];
  const stillRequired = required.filter((name) => !carried.has(name));
  return Object.keys(properties).length === 0
    ? { ...schema, headers: undefined }
    : { ...schema, headers: { ...headers, properties, required: stillRequired } };
}

/**
 * The OpenAPI document at /openapi.json and Swagger UI at /docs, generated from the routes
 * registered after it (at the root: @fastify/swagger collects them with an onRoute hook).
 */
export const openApi = fp(async (app: App, { auth }: { auth: Pick<Auth, 'securitySchemes'> }) => {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Overture',
        version: '0.1.0',
        description:
          'Concert ticketing with a virtual waiting room. Join the queue, wait until ACTIVE, hold a seat, pay from a ' +
          'prepaid balance. Every reply is `{code, message, data}`; errors carry a stable code. ' +
          'Authorize once (the padlock) with your user id or JWT and your queue token; every operation then sends them.',
      },
      tags: [
        { name: 'queue', description: 'The waiting room' },
        { name: 'concerts', description: 'Concerts and seat maps (ACTIVE token)' },
        { name: 'holds', description: 'Seat holds (ACTIVE token)' },
        { name: 'reservations', description: 'Payment and your reservations' },
        { name: 'balance', description: 'Prepaid balance' },
        { name: 'health', description: 'Probes' },
        {
          name: 'admin',
          description:
            'Operator endpoints: the operator key (AUTH_MODE=client-id) or a JWT with the admin role (AUTH_MODE=jwt)',
        },
      ],
      components: { securitySchemes: auth.securitySchemes },
    },
    transform: ({ schema, url }) => ({ schema: withoutSchemeHeaders(schema), url }),
  });
  // No staticCSP: its policy would replace ours (src/http/security-headers.ts) on /docs with one that
  // always sends upgrade-insecure-requests; ours already lets Swagger UI run.
  await app.register(swaggerUi, {
    routePrefix: '/docs',
    // What the Authorize dialog was given survives a reload of the page.
    uiConfig: { persistAuthorization: true },
  });
  app.get('/openapi.json', { schema: { hide: true } }, () => app.swagger());
});
