import type { GroupMember, MemberShards } from './bus.redis.shards.js';
import type { HandleEntries, ReadReply } from './bus.redis.reader.js';

/** Pending entries looked at, and claimed, per call. */
const PAGE = 500;

/**
 * Catches a shard up before anything newer of it is read — one just taken over, or after a
 * failure: claims (XCLAIM) what departed members left pending, once idle for `claimIdleMs` (until
 * then it waits: reading newer entries first would break the order), then handles this member's
 * own pending entries, oldest first. Resolves true once nothing is pending.
 */
export function pendingClaimer(
  member: GroupMember,
  shards: Pick<MemberShards, 'caughtUp'>,
  options: { claimIdleMs: number; batchSize: number; handle: HandleEntries },
): (shard: number) => Promise<boolean> {
  const { redis, keys, group, me, logger } = member;
  const { claimIdleMs, batchSize, handle } = options;

  /** Entries of departed members, or undefined while one of them may still be alive. */
  async function departedEntries(stream: string): Promise<string[] | undefined> {
    const foreign: string[] = [];
    let start = '-';
    for (;;) {
      const page = (await redis.xpending(stream, group, start, '+', PAGE)) as [
        string,
        string,
        number,
        number,
      ][];
      for (const [id, consumer, idleMs] of page) {
        if (consumer === me) continue;
        if (idleMs < claimIdleMs) return undefined;
        foreign.push(id);
      }
      const last = page.at(-1);
      if (page.length < PAGE || !last) return foreign;
      start = `(${last[0]}`;
    }
  }

  return async (shard) => {
    const stream = keys.stream(shard);
    const foreign = await departedEntries(stream);
    if (!foreign) return false;
    for (let i = 0; i < foreign.length; i += PAGE) {
      const ids = foreign.slice(i, i + PAGE);
      await redis.call('XCLAIM', stream, group, me, claimIdleMs, ...ids, 'JUSTID');
      logger.info({ stream, group, entries: ids.length }, 'claimed a departed member’s entries');
    }
    for (;;) {
      const reply: ReadReply = await redis.xreadgroup(
        'GROUP',
        group,
        me,
        'COUNT',
        batchSize,
        'STREAMS',
        stream,
        '0',
      );
      const entries = reply?.[0]?.[1] ?? [];
      if (entries.length === 0) {
        shards.caughtUp(shard);
        return true;
      }
      if (!(await handle(shard, entries))) return false;
    }
  };
}
