import { randomBytes } from 'node:crypto';

/** 24 random bytes (192 bits) as base64url: 32 characters, unguessable, says nothing about the user. */
export const newQueueToken = (): string => randomBytes(24).toString('base64url');

export const QUEUE_TOKEN_PATTERN = '^[A-Za-z0-9_-]{32}$';

/** A positive decimal integer without sign or leading zero, at most 2^53 - 1 (checked on parse). */
export const CLIENT_ID_PATTERN = '^[1-9][0-9]{0,15}$';

export const MAX_ID = Number.MAX_SAFE_INTEGER;
