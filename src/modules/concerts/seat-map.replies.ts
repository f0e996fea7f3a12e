import type { FastifyReply, FastifyRequest } from 'fastify';

/**
 * A seat-map reply's validators (when the instance keeps snapshots, SEAT_MAP_CACHE_MS): the ETag,
 * revalidated on every read (no-cache) and kept by the buyer's browser only (private). True when
 * the page's copy is current: the caller answers 304 with no body (decision 0061).
 */
export function notModifiedFor(
  request: FastifyRequest,
  reply: FastifyReply,
  etag?: string,
): boolean {
  if (etag === undefined) return false;
  reply.header('etag', etag).header('cache-control', 'private, no-cache');
  return request.headers['if-none-match'] === etag;
}

/** What a route's 200 reply is serialized with: Fastify's own serializer of its response schema. */
type Serializer = Pick<FastifyReply, 'serializeInput'>;

/** Fastify's content type for a JSON reply it serializes itself. */
const JSON_TYPE = 'application/json; charset=utf-8';

/**
 * One route's 200 replies of seat-map snapshots as bytes (decision 0065): the first reader of a
 * snapshot has its reply serialized by the route's own response schema (exactly the bytes Fastify
 * would send) and kept; every other reader of the same snapshot is sent that Buffer, without
 * building the JSON (1,000 seats: most of the request's CPU) nor measuring it again. Keyed by the
 * snapshot's value object, so a new snapshot — or a new read each time with SEAT_MAP_CACHE_MS 0 —
 * is serialized anew, and an old snapshot's bytes are collected with it.
 */
export function snapshotBodies() {
  const bodies = new WeakMap<object, Buffer>();
  /** The bytes of `payload()` for the snapshot `value`, serialized once per snapshot. */
  const bodyOf = (
    reply: Serializer,
    value: object,
    payload: () => Record<string, unknown>,
  ): Buffer => {
    let body = bodies.get(value);
    if (body === undefined) {
      const json = reply.serializeInput(payload(), '200');
      if (typeof json !== 'string') throw new Error('the 200 reply has no serializer');
      body = Buffer.from(json);
      bodies.set(value, body);
    }
    return body;
  };
  return {
    bodyOf,
    /** Sends the snapshot's 200 reply as bytes, with the content type Fastify gives JSON. */
    send: (reply: FastifyReply, value: object, payload: () => Record<string, unknown>) =>
      reply.header('content-type', JSON_TYPE).send(bodyOf(reply, value, payload)),
  };
}
