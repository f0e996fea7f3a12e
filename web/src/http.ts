import type { paths } from './api-types.js';

/**
 * What the pages share to call the public HTTP API: the reply's `data` typed from the generated
 * OpenAPI types (src/api-types.ts, docs/decisions/0055), refusals as an ApiError with their code.
 */

type Method = 'get' | 'post' | 'patch' | 'delete';
type Operation<P extends keyof paths, M extends Method> = paths[P][M];
type Success<O> = O extends { responses: infer R }
  ? R extends { 200: { content: { 'application/json': infer J } } }
    ? J
    : R extends { 201: { content: { 'application/json': infer J } } }
      ? J
      : never
  : never;

/** The `data` of an operation's success reply, as the OpenAPI document describes it. */
export type Data<P extends keyof paths, M extends Method> =
  Success<Operation<P, M>> extends { data: infer D } ? D : never;

/** An operation's JSON request body. */
export type Body<P extends keyof paths, M extends Method> =
  Operation<P, M> extends { requestBody?: { content: { 'application/json': infer B } } }
    ? B
    : never;

export class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
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

/**
 * One call to `${base}${path}` with the given headers; the envelope unwrapped. `base` is relative
 * (the page works behind a proxy that mounts the service under a path).
 */
export async function request<T>(
  base: string,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: unknown,
): Promise<T> {
  const sent = { ...headers };
  if (body !== undefined) sent['Content-Type'] = 'application/json';
  let response: Response;
  try {
    response = await fetch(`${base}${path}`, {
      method,
      headers: sent,
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
