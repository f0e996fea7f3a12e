import { Ajv, type Options as AjvOptions } from 'ajv';
import formatsPlugin from 'ajv-formats';
import type { preValidationHookHandler, RouteOptions } from 'fastify';
import fp from 'fastify-plugin';
import type { App } from '../shared/app-types.js';
import { AppError } from '../shared/errors.js';

const addFormats = formatsPlugin as unknown as (ajv: Ajv) => Ajv;

/**
 * Bodies are validated strictly (JSON has types: "5000" is not an amount, unknown fields are
 * refused); path, query and headers arrive as text and are coerced to the schema's types.
 */
function validators(): { body: Ajv; other: Ajv } {
  const base: AjvOptions = {
    removeAdditional: false,
    useDefaults: true,
    allErrors: false,
    strict: false,
  };
  return {
    body: addFormats(new Ajv({ ...base, coerceTypes: false })),
    other: addFormats(new Ajv({ ...base, coerceTypes: 'array' })),
  };
}

/** One spelling per number: decimal digits, no sign but minus, no leading zeros. */
const DECIMAL_INTEGER = /^-?(0|[1-9][0-9]*)$/;

/** Names of the integer properties of a params/querystring schema. */
function integerProperties(schema: unknown): string[] {
  const properties =
    (schema as { properties?: Record<string, { type?: unknown }> } | undefined)?.properties ?? {};
  return Object.entries(properties)
    .filter(([, property]) => property.type === 'integer')
    .map(([name]) => name);
}

/**
 * Integers in the path and query must be written as plain decimal digits: without this, coercion
 * by Number() would let "0x6", "6e0", "+6" or "006" name concert 6. Added to the routes that have
 * them.
 */
function requireDecimalIntegers(route: RouteOptions): void {
  const parts = [
    ['params', integerProperties(route.schema?.params)],
    ['query', integerProperties(route.schema?.querystring)],
  ] as const;
  if (parts.every(([, names]) => names.length === 0)) return;
  const check: preValidationHookHandler = (request, _reply, done) => {
    for (const [part, names] of parts) {
      const values = request[part] as Record<string, unknown>;
      for (const name of names) {
        const value = values[name];
        if (typeof value === 'string' && !DECIMAL_INTEGER.test(value)) {
          done(
            new AppError(
              'INVALID_REQUEST',
              `${name} must be written as a whole decimal number without leading zeros.`,
              { field: name },
            ),
          );
          return;
        }
      }
    }
    done();
  };
  const existing = route.preValidation;
  route.preValidation =
    existing === undefined
      ? [check]
      : [...(Array.isArray(existing) ? existing : [existing]), check];
}

/** How every route's schema validates its input (registered before the routes). */
export const validation = fp((app: App) => {
  app.addHook('onRoute', requireDecimalIntegers);
  const { body, other } = validators();
  app.setValidatorCompiler(({ schema, httpPart }) =>
    (httpPart === 'body' ? body : other).compile(schema),
  );
});
