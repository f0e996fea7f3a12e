import type { GroupMember } from './bus.redis.shards.js';

/**
 * Every `intervalMs` (checked by the member's loop), trims the streams this member owns and
 * forgets the group's members that left long ago. A stream is trimmed (XTRIM MINID ~) below the
 * oldest entry any group still needs (its oldest pending entry, or what follows the last entry it
 * was given), or up to the retention time, whichever is later. Approximate (`~`): Redis removes
 * whole nodes only, never an entry at or above MINID.
 */
export function streamTrimmer(
  member: GroupMember,
  options: { intervalMs: number; retentionMs: number; claimIdleMs: number },
): { trimIfDue(owned: readonly number[]): Promise<void> } {
  const { redis, keys, group, me } = member;
  let lastTrim = 0;

  async function trim(stream: string): Promise<void> {
    const groups = (await redis.xinfo('GROUPS', stream)) as unknown[][];
    let floor: string | undefined;
    for (const info of groups) {
      const fields = pairs(info);
      const needed =
        Number(fields.get('pending')) > 0
          ? ((await redis.xpending(stream, String(fields.get('name')))) as [number, string])[1]
          : nextId(String(fields.get('last-delivered-id')));
      if (floor === undefined || compareIds(needed, floor) < 0) floor = needed;
    }
    const retained = `${Math.max(0, Date.now() - options.retentionMs)}-0`;
    const minId = floor === undefined || compareIds(retained, floor) > 0 ? retained : floor;
    await redis.xtrim(stream, 'MINID', '~', minId);
  }

  /** Forgets members of the group that left long ago and own nothing (each restart is a new name). */
  async function forgetGone(stream: string): Promise<void> {
    const consumers = (await redis.xinfo('CONSUMERS', stream, group)) as unknown[][];
    for (const info of consumers) {
      const fields = pairs(info);
      const name = String(fields.get('name'));
      if (
        name !== me &&
        Number(fields.get('pending')) === 0 &&
        Number(fields.get('idle')) > options.claimIdleMs * 10
      )
        await redis.xgroup('DELCONSUMER', stream, group, name);
    }
  }

  return {
    async trimIfDue(owned) {
      if (Date.now() - lastTrim < options.intervalMs) return;
      lastTrim = Date.now();
      for (const shard of owned) {
        await trim(keys.stream(shard));
        await forgetGone(keys.stream(shard));
      }
    },
  };
}

/** XINFO's flat [field, value, …] reply as a map. */
function pairs(info: unknown[]): Map<string, unknown> {
  const map = new Map<string, unknown>();
  for (let i = 0; i + 1 < info.length; i += 2) map.set(String(info[i]), info[i + 1]);
  return map;
}

function parseId(id: string): [bigint, bigint] {
  const [ms = '0', seq = '0'] = id.split('-');
  return [BigInt(ms), BigInt(seq)];
}

function compareIds(a: string, b: string): number {
  const [aMs, aSeq] = parseId(a);
  const [bMs, bSeq] = parseId(b);
  if (aMs !== bMs) return aMs < bMs ? -1 : 1;
  if (aSeq !== bSeq) return aSeq < bSeq ? -1 : 1;
  return 0;
}

/** The smallest stream id after `id`. */
function nextId(id: string): string {
  const [ms, seq] = parseId(id);
  return `${ms}-${seq + 1n}`;
}
