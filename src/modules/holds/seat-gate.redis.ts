import { randomBytes } from 'node:crypto';
import type { RedisClient } from '../../redis/client.js';
import type { Logger } from 'pino';
import { redisKeys } from '../../redis/keys.js';
import { luaSource } from '../../redis/scripts.js';
import type { GateEntry, SeatDecision, SeatGate } from './seat-gate.js';

export interface RedisSeatGateOptions {
  keyPrefix: string;
  /**
   * Lifetime of a gate: the longest one attempt holds it (a crashed attempt's gate frees itself)
   * and the longest others wait for its decision.
   */
  ttlMs: number;
  logger: Logger;
}

type Script = (...args: (string | number)[]) => Promise<unknown>;

/** A gate's value: `<user>:<attempt>` — who is deciding the seat, and which attempt. */
const GATE_VALUE = /^([0-9]+):([A-Za-z0-9_-]+)$/;
/** A decision: `h:<user>` held by, `s:<user>` sold to. */
const DECISION = /^([hs]):([0-9]+)$/;

const decisionValue = (decision: SeatDecision): string =>
  decision === 'undecided' ? '' : 'held' in decision ? `h:${decision.held}` : `s:${decision.sold}`;

/** Pauses between looks at a seat another user's attempt is deciding (ms): quick first, then steady. */
const WAITS = [1, 2, 5, 10, 20];

/**
 * The seat gate on Redis: one key per seat (`lock:seat:{concertId}:{seatId}`, src/redis/keys.ts)
 * taken with SET NX PX semantics by a Lua script that also answers who holds it, so each look is
 * one round trip. The attempt that gets the gate runs the database hold, then frees the gate and
 * records the database's answer under its attempt id in one script; attempts by other users that
 * found it deciding poll gate and answer together until the answer is there. Any Redis failure
 * lets the request through to the database (fail open) and says so once per outage in the log.
 */
export function createRedisSeatGate(redis: RedisClient, options: RedisSeatGateOptions): SeatGate {
  const keys = redisKeys(options.keyPrefix);
  const define = (name: string, file: string, numberOfKeys: number): Script => {
    const command = `overtureSeatGate_${name}`;
    redis.defineCommand(command, { numberOfKeys, lua: luaSource(file) });
    const run = (redis as unknown as Record<string, Script>)[command];
    if (!run) throw new Error(`ioredis did not define ${command}`);
    return (...args) => run.call(redis, ...args);
  };
  const enterScript = define('enter', 'seat-gate.enter', 1);
  const lookScript = define('look', 'seat-gate.look', 2);
  const settleScript = define('settle', 'seat-gate.settle', 2);

  let failing = false;
  const failedOpen = (error: unknown) => {
    if (!failing)
      options.logger.warn(
        { err: error },
        'seat gate: RedisClient is not answering; holds go straight to the database (fail open)',
      );
    failing = true;
  };
  const answered = () => {
    if (failing) options.logger.info('seat gate: RedisClient answers again');
    failing = false;
  };
  // An attempt's id only has to be unique among the attempts on a seat in every instance: a random
  // prefix per gate, then a counter. randomBytes per attempt was 2.3% of the storm's server CPU
  // (decision 0012).
  const attemptPrefix = randomBytes(9).toString('base64url');
  let attempts = 0;
  const pause = (look: number) =>
    new Promise((resolve) => setTimeout(resolve, WAITS[Math.min(look, WAITS.length - 1)]));

  return {
    async enter(seat, userId) {
      const gate = keys.seatGate(seat.concertId, seat.seatId);
      const attempt = `${attemptPrefix}${(attempts++).toString(36)}`;
      const mine = `${userId}:${attempt}`;
      const deadline = Date.now() + options.ttlMs;
      try {
        for (let look = 0; ; look++) {
          const current = (await enterScript(gate, mine, options.ttlMs)) as string;
          answered();
          if (current === '') {
            const decisionKey = keys.seatGateDecision(seat.concertId, seat.seatId, attempt);
            const entry: GateEntry = {
              kind: 'decide',
              async settle(decision) {
                try {
                  await settleScript(
                    gate,
                    decisionKey,
                    mine,
                    decisionValue(decision),
                    options.ttlMs,
                  );
                } catch (error) {
                  // The gate's TTL frees it; waiters then ask the database themselves.
                  failedOpen(error);
                }
              },
            };
            return entry;
          }
          const [, owner, deciding] = GATE_VALUE.exec(current) ?? [];
          // The user's own concurrent attempt, or a value this code did not write: the database.
          if (owner === undefined || deciding === undefined || Number(owner) === userId)
            return { kind: 'pass' };
          // Another user's attempt is deciding the seat: wait for its answer.
          const decisionKey = keys.seatGateDecision(seat.concertId, seat.seatId, deciding);
          for (; ; look++) {
            if (Date.now() >= deadline) return { kind: 'pass' };
            await pause(look);
            const [gateNow, decision] = (await lookScript(gate, decisionKey)) as [string, string];
            const [, kind, holder] = DECISION.exec(decision) ?? [];
            if (kind !== undefined) {
              // The holder or buyer it names asks the database (a repeat, a replay); others need not.
              return Number(holder) === userId
                ? { kind: 'pass' }
                : { kind: 'refuse', holderId: Number(holder), sold: kind === 's' };
            }
            // Decided nothing others may go by, or its gate expired: try to take the gate.
            if (gateNow !== current) break;
          }
        }
      } catch (error) {
        failedOpen(error);
        return { kind: 'pass' };
      }
    },
  };
}
