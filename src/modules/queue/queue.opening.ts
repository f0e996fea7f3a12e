import type { Logger } from 'pino';
import { AppError } from '../../shared/errors.js';
import { roomOfToken } from '../../shared/ids.js';
import { createLoop, MORE_WORK, type RunOutcome, type Worker } from '../../shared/loop.js';
import type { RoomDirectory } from '../rooms/rooms.service.js';
import type { RoomSettings } from '../rooms/rooms.store.js';
import type { OpeningView, PreQueueEntry, PreQueueStore } from './queue.opening.store.js';
import type { QueueService, RoomView } from './queue.service.js';
import type { QueueStore, TokenView } from './queue.store.js';

/** Draw pages hold this many receipts (docs/lottery.md). */
export const DRAW_PAGE_SIZE = 1000;
/** Due openings one run looks at (oldest first); the rest wait for the next run. */
const ROOMS_PER_RUN = 20;
/** Entries read per batch of the move into the line. */
const MOVE_BATCH = 500;
/**
 * One run moves entries for at most this long, so one instance's run stays bounded (a stop waits
 * for one batch); a run that leaves work reports it and the loop goes straight on (0066).
 */
const RUN_BUDGET_MS = 250;

export interface Opening extends Worker {
  /** The join of a room with an opening not yet transferred; undefined: join the line itself. */
  join(userId: number, room: RoomSettings): Promise<TokenView | undefined>;
  /** A token the line does not know (yet): its pre-queue entry's view. */
  poll(token: string): Promise<TokenView | undefined>;
  /** The views of those of `tokens` that have a pre-queue entry, in one read (live streams). */
  watch(tokens: readonly string[]): Promise<Map<string, TokenView>>;
  /** The pre-queue receipt of a token of a room with an opening (kept after the draw). */
  receiptOf(token: string): Promise<string | null>;
  /**
   * One run: draws the due openings and moves drawn entries into their lines; MORE_WORK when it
   * stopped with entries (or due rooms) left, so the loop runs again at once instead of sleeping.
   */
  run(stopping?: AbortSignal): Promise<RunOutcome>;
}

/**
 * Scheduled openings (issue 15 item 4, decision 0056). Joins from the pre-queue window on are
 * kept in PostgreSQL (pre_queue) with a receipt and the token they will have. At opens_at one
 * instance draws (queue.opening.postgres.ts: draw); then any instance moves the entries into the
 * room's line on the backend in use, in place order — then later arrivals in arrival order —
 * batch after batch (one store call each: QueueStore.joinMany, decision 0060), each entry joining
 * with its own token (an entry already in line is a no-op), so a second mover, or a mover after a
 * crash, keeps the order. When nothing is left
 * the room is transferred and joins go straight to the line again.
 */
export function createOpening(deps: {
  preQueue: PreQueueStore;
  store: Pick<QueueStore, 'joinMany' | 'poll'>;
  rooms: Pick<RoomDirectory, 'lookup' | 'settings'> & Partial<Pick<RoomDirectory, 'refresh'>>;
  intervalMs: number;
  logger: Logger;
  /** Told when entries entered a line (admission and live positions may act at once). */
  moved?: () => void;
  /** Whether a room is sold out as last read (queue.soldout.ts): its entries are told SOLD_OUT. */
  soldOut?: (roomId: number) => boolean;
}): Opening {
  const { preQueue, store, rooms, logger } = deps;
  const soldOut = (roomId: number) => deps.soldOut?.(roomId) ?? false;

  const view = async (entry: PreQueueEntry): Promise<TokenView> => {
    const base = { token: entry.token, userId: entry.userId, roomId: entry.roomId };
    if (entry.moved) {
      // The line's store tells its own entries SOLD_OUT (withSoldOut).
      const inLine = await store.poll(entry.token);
      if (inLine) return { ...inLine, receiptId: entry.receiptId, opensAt: null };
    }
    if (!entry.opened)
      return {
        ...base,
        // The sale sold out before its opening: told so, the entry kept (issue 15 item 7).
        status: soldOut(entry.roomId) ? 'SOLD_OUT' : 'PRE_QUEUE',
        position: 0,
        expiresAt: null,
        receiptId: entry.receiptId,
        opensAt: entry.opensAt,
      };
    // Drawn (or arrived after the draw) and on its way into the line: the place it will have.
    return {
      ...base,
      status: soldOut(entry.roomId) ? 'SOLD_OUT' : 'WAITING',
      position: entry.rank,
      expiresAt: null,
      receiptId: entry.receiptId,
      opensAt: null,
    };
  };

  /**
   * Moves the room's next entries into its line until `until`: 'transferred' when nothing was
   * left (the room's joins go to the line from now on), 'more' when the time ran out first.
   */
  const move = async (
    roomId: number,
    until: number,
    stopping?: AbortSignal,
  ): Promise<'transferred' | 'more' | 'unknown'> => {
    const room = await rooms.lookup(roomId);
    if (!room) return 'unknown';
    while (Date.now() < until && !stopping?.aborted) {
      const batch = await preQueue.toMove(roomId, MOVE_BATCH);
      // Entries written after this check are not lost: finish re-checks under the room's lock.
      if (batch.length === 0) return (await preQueue.finish(roomId)) ? 'transferred' : 'more';
      // One store call per batch, in place order: each enters behind every entry before it.
      await store.joinMany(
        room,
        batch.map((entry) => ({ userId: entry.user_id, token: entry.token })),
      );
      await preQueue.moved(
        roomId,
        batch.map((entry) => entry.user_id),
      );
      deps.moved?.();
    }
    return 'more';
  };

  const run = async (stopping?: AbortSignal): Promise<RunOutcome> => {
    const until = Date.now() + RUN_BUDGET_MS;
    const due = await preQueue.due(ROOMS_PER_RUN);
    // More rooms due than one run looks at: the rest are work left too.
    let more = due.length === ROOMS_PER_RUN;
    for (const room of due) {
      if (stopping?.aborted) return;
      if (!room.opened) {
        const drawn = await preQueue.draw(room.roomId);
        if (drawn !== undefined) logger.info({ roomId: room.roomId, drawn }, 'room opened: drawn');
      }
      const moved = await move(room.roomId, until, stopping);
      if (moved === 'transferred') {
        logger.info({ roomId: room.roomId }, 'room opened: pre-queue all in line');
        // This instance's joins go straight to the line at once, not at the next reload.
        await rooms.refresh?.().catch(() => undefined);
      } else if (moved === 'more') more = true;
    }
    // Entries left: the loop goes on after one turn of the event loop, not after its interval.
    return more && !stopping?.aborted ? MORE_WORK : undefined;
  };
  const loop = createLoop('opening', deps.intervalMs, run, logger);

  return {
    start: loop.start,
    stop: loop.stop,
    progress: loop.progress,
    run: (stopping) => run(stopping),
    async join(userId, room) {
      const opening = room.opening;
      if (!opening || opening.transferred) return undefined;
      const windowStart = opening.preQueueOpensAt ?? null;
      if (windowStart !== null && Date.now() < Date.parse(windowStart))
        throw notOpenYet(opening.opensAt, windowStart);
      const entry = await preQueue.enter(room.roomId, userId);
      return entry ? view(entry) : undefined;
    },
    async poll(token) {
      if (roomOfToken(token) === 0) return undefined;
      const entry = await preQueue.byToken(token);
      return entry ? view(entry) : undefined;
    },
    async watch(tokens) {
      const roomTokens = tokens.filter((token) => roomOfToken(token) !== 0);
      const views = new Map<string, TokenView>();
      for (const entry of await preQueue.byTokens(roomTokens))
        views.set(entry.token, await view(entry));
      return views;
    },
    async receiptOf(token) {
      const roomId = roomOfToken(token);
      if (roomId === 0 || !rooms.settings(roomId)?.opening) return null;
      return (await preQueue.byToken(token))?.receiptId ?? null;
    },
  };
}

const notOpenYet = (opensAt: string, preQueueOpensAt: string) =>
  new AppError(
    'ROOM_NOT_OPEN_YET',
    `The room's pre-queue opens at ${preQueueOpensAt}; the sale opens at ${opensAt}.`,
    { opensAt, preQueueOpensAt },
  );

/**
 * The waiting room's service with scheduled openings (the service itself sends a room's joins to
 * the pre-queue until its transfer, after the door's checks): a token still on its way into the
 * line is answered from the pre-queue, the views carry the receipt, and the room view the lottery.
 */
export function withOpening(
  queue: QueueService,
  deps: { opening: Opening; preQueue: PreQueueStore },
): QueueService & {
  room(concertId: number): Promise<RoomView & OpeningView>;
  draw: (concertId: number, page: number) => ReturnType<PreQueueStore['drawPage']>;
} {
  const { opening, preQueue } = deps;
  // receiptId null: known to have none (a token the join just made); undefined: not known. The
  // house room has no pre-queue: answered without a read of its own.
  const withReceipt = (view: TokenView): TokenView | Promise<TokenView> =>
    view.receiptId !== undefined || roomOfToken(view.token) === 0
      ? { ...view, receiptId: view.receiptId ?? null }
      : opening.receiptOf(view.token).then((receiptId) => ({ ...view, receiptId }));
  return {
    ...queue,
    async join(userId, concertId, work) {
      return withReceipt(await queue.join(userId, concertId, work));
    },
    async status(token, owner) {
      try {
        return await withReceipt(await queue.status(token, owner));
      } catch (error) {
        if (!(error instanceof AppError) || error.code !== 'QUEUE_TOKEN_INVALID') throw error;
        const entry = await opening.poll(token);
        if (!entry) throw error;
        // Another user's pre-queue token: answered as unknown, like a token never issued.
        if (owner !== undefined && owner !== entry.userId) throw error;
        return entry;
      }
    },
    async room(concertId) {
      const [view, lottery] = await Promise.all([
        queue.room(concertId),
        preQueue.lottery(concertId),
      ]);
      return { ...view, ...lottery };
    },
    draw: (concertId, page) => preQueue.drawPage(concertId, page, DRAW_PAGE_SIZE),
  };
}
