import { randomFillSync } from 'node:crypto';

const TOKEN_BYTES = 24;
/**
 * Random bytes for tokens, drawn from the CSPRNG 6 KiB at a time (as Node's randomUUID caches
 * its own): one call per token cost ~5% of the server's CPU at a sale's join rate (0012). Each
 * byte is used once.
 */
const pool = Buffer.alloc(TOKEN_BYTES * 256);
let offset = pool.length;

/** 24 random bytes (192 bits) as base64url: 32 characters, unguessable, says nothing about the user. */
export const newQueueToken = (): string => {
  if (offset === pool.length) {
    randomFillSync(pool);
    offset = 0;
  }
  const token = pool.toString('base64url', offset, offset + TOKEN_BYTES);
  offset += TOKEN_BYTES;
  return token;
};

/**
 * A house-room token is the 32 characters; a room's token is its concert id, a dot, then those
 * (so any instance knows a token's room without a lookup: docs/rooms.md).
 */
export const QUEUE_TOKEN_PATTERN = '^([1-9][0-9]{0,15}\\.)?[A-Za-z0-9_-]{32}$';

/** A new token of the room `roomId` (0: the house room). */
export const newRoomToken = (roomId: number): string =>
  roomId === 0 ? newQueueToken() : `${roomId}.${newQueueToken()}`;

/** The room of a token: the concert id before its dot, 0 (the house room) without one. */
export const roomOfToken = (token: string): number => {
  const dot = token.indexOf('.');
  return dot < 0 ? 0 : Number(token.slice(0, dot));
};

/** A positive decimal integer without sign or leading zero, at most 2^53 - 1 (checked on parse). */
export const CLIENT_ID_PATTERN = '^[1-9][0-9]{0,15}$';

export const MAX_ID = Number.MAX_SAFE_INTEGER;
