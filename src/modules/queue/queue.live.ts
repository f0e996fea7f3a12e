import type { Logger } from 'pino';
import { createLoop, type Worker } from '../../shared/loop.js';
import { roomOfToken } from '../../shared/ids.js';
import { estimatedWaitSeconds } from './queue.rules.js';
import type { RoomFigures } from './queue.figures.js';
import type { QueueStore, TokenView, WatchedTokens } from './queue.store.js';

/** What a live stream (and its JSON fallback) tells the client about its token. */
export interface LiveStatus {
  status: TokenView['status'];
  position: number;
  expiresAt: string | null;
  estimatedWaitSeconds: number | null;
  /** The token's room: its concert, null for the house room. */
  concertId: number | null;
  /** People ahead in line: position − 1 while WAITING, else 0. */
  ahead: number;
  /** Seats of the room's concert free or held; null for the house room. */
  seatsLeft: number | null;
  /** A pre-queue entry's lottery receipt, while the stream reads the token from the pre-queue. */
  receiptId?: string | null;
  /** PRE_QUEUE: the room's opening, when places are drawn. */
  opensAt?: string | null;
}

/**
 * A token's live state; `admissionRate` is its room's rate for estimates (RoomFigures.rate),
 * `seatsLeft` its room's figure (RoomFigures.seatsLeft).
 */
export function liveStatus(
  view: TokenView,
  admissionRate: number,
  seatsLeft: number | null = null,
): LiveStatus {
  return {
    concertId: view.roomId === 0 ? null : view.roomId,
    status: view.status,
    position: view.position,
    expiresAt: view.expiresAt?.toISOString() ?? null,
    estimatedWaitSeconds: estimatedWaitSeconds(view.status, view.position, admissionRate),
    ...placeFigures(view, seatsLeft),
    ...(view.receiptId ? { receiptId: view.receiptId } : {}),
    ...(view.opensAt ? { opensAt: view.opensAt.toISOString() } : {}),
  };
}

/** The views of pre-queue tokens the line does not know yet (Opening.watch). */
export type PreQueueViews = (tokens: readonly string[]) => Promise<Map<string, TokenView>>;

/**
 * The line's views of `tokens` (QueueStore.watch), and for those the line does not know, their
 * pre-queue entries' views: a PRE_QUEUE token is followed like a WAITING one, through the draw
 * and its move into the line. One more read only when some token is not in the line.
 */
export async function watchWithPreQueue(
  store: Pick<QueueStore, 'watch'>,
  preQueue: PreQueueViews | undefined,
  tokens: readonly string[],
): Promise<WatchedTokens> {
  const watched = await store.watch(tokens);
  const unknown = tokens.filter((token) => !watched.views.has(token) && roomOfToken(token) !== 0);
  if (!preQueue || unknown.length === 0) return watched;
  for (const [token, view] of await preQueue(unknown)) watched.views.set(token, view);
  return watched;
}

/** `ahead` and `seatsLeft` of a token view (the token view, the join answer and the live state). */
export const placeFigures = (
  view: Pick<TokenView, 'status' | 'position'>,
  seatsLeft: number | null,
): Pick<LiveStatus, 'ahead' | 'seatsLeft'> => ({
  ahead: view.status === 'WAITING' ? Math.max(0, view.position - 1) : 0,
  seatsLeft,
});

/** A token the store no longer knows (purged long after expiry, or lost with Redis's data). */
const GONE: LiveStatus = {
  status: 'EXPIRED',
  position: 0,
  expiresAt: null,
  estimatedWaitSeconds: null,
  concertId: null,
  ahead: 0,
  seatsLeft: null,
};

/**
 * The event id of a state: its fields, so equal states have equal ids on every instance. A
 * reconnecting client's Last-Event-ID then says exactly what it already shows.
 */
export function liveEventId(state: LiveStatus): string {
  const expires = state.expiresAt === null ? '-' : String(Date.parse(state.expiresAt));
  const seats = state.seatsLeft === null ? '' : `.${state.seatsLeft}`;
  return `${state.status}.${state.position}.${expires}.${state.estimatedWaitSeconds ?? '-'}${seats}`;
}

/** One open stream, as the hub drives it (the route adapts an SSE reply to this). */
export interface LiveClient {
  send(state: LiveStatus, id: string): void;
  /** A heartbeat comment, so proxies and clients see a quiet stream is still alive. */
  ping(): void;
  /** Ends the stream (after EXPIRED, or at shutdown). */
  end(): void;
  /** False while the connection's send buffer is full: the client then skips states, never queues them. */
  readonly writable: boolean;
}

export interface LivePositions extends Worker {
  /**
   * Follows `token` for a client that has just been sent the state with id `sentId` (or nothing,
   * when '' — it then gets the state at the next tick). Returns the function that stops following.
   */
  follow(token: string, client: LiveClient, sentId: string): () => void;
  /** Compute updates now (after a local admission run): ACTIVE reaches the client at once. */
  wake(): void;
  /** Ends every open stream (graceful shutdown: the server waits for open connections). */
  closeAll(): void;
  /** Open streams on this instance. */
  readonly size: number;
  /** The admission rate of the last tick (admissions per second), or undefined before any. */
  readonly admissionRate: number | undefined;
}

interface Follower {
  token: string;
  client: LiveClient;
  lastId: string;
  lastWriteAt: number;
}

export interface LivePositionsOptions {
  store: Pick<QueueStore, 'watch'>;
  /** Tokens the line does not know may be in a room's pre-queue (scheduled openings). */
  preQueue?: PreQueueViews;
  /** Seats left and the capped rate per room (without: no seats left, the measured rate). */
  figures?: RoomFigures;
  /** Period of the one timer that computes every stream's update. */
  intervalMs: number;
  /** A stream that had nothing to say for this long gets a `: ping` comment. */
  heartbeatMs: number;
  logger: Logger;
  now?: () => number;
}

/**
 * Live positions for every open stream of this instance. ONE timer reads all followed tokens in
 * one batched store call (QueueStore.watch) every `intervalMs` — and at once when woken after a
 * local admission run — and writes a state only to the streams whose state changed. The cost
 * per tick is one store round trip whatever the number of streams; a slow client never buffers
 * more than one state (states are snapshots: it skips to the latest when it drains).
 */
export function createLivePositions(options: LivePositionsOptions): LivePositions {
  const { store, logger } = options;
  const now = options.now ?? Date.now;
  const byToken = new Map<string, Set<Follower>>();
  let count = 0;
  let admissionRate: number | undefined;
  let failing = false;

  const roomFigures = (roomId: number, watched: WatchedTokens) =>
    figuresOf(options.figures, roomId, watched);

  const detach = (follower: Follower) => {
    const followers = byToken.get(follower.token);
    if (!followers?.delete(follower)) return;
    count--;
    if (followers.size === 0) byToken.delete(follower.token);
  };

  const heartbeats = (at: number) => {
    for (const followers of byToken.values()) {
      for (const follower of followers) {
        if (at - follower.lastWriteAt < options.heartbeatMs || !follower.client.writable) continue;
        follower.client.ping();
        follower.lastWriteAt = at;
      }
    }
  };

  const tick = async () => {
    heartbeats(now());
    if (byToken.size === 0) return;
    const tokens = [...byToken.keys()];
    let watched;
    try {
      // Seats left: one read for every room followed here, at most once per figures' max age.
      [watched] = await Promise.all([
        watchWithPreQueue(store, options.preQueue, tokens),
        options.figures?.refresh(tokens.map(roomOfToken)),
      ]);
    } catch (error) {
      // Streams stay open (heartbeats go on); the next tick tries again. One line per outage.
      if (!failing) logger.warn({ err: error }, 'live positions: the queue store is not answering');
      failing = true;
      return;
    }
    if (failing) logger.info('live positions: the queue store answers again');
    failing = false;
    admissionRate = watched.admissionRate;
    const at = now();
    // Only the tokens read in this tick: a stream that started meanwhile waits for the next.
    for (const token of tokens) {
      const followers = byToken.get(token);
      if (!followers) continue;
      const view = watched.views.get(token);
      const state = view ? liveStatus(view, ...roomFigures(view.roomId, watched)) : GONE;
      const id = liveEventId(state);
      for (const follower of [...followers]) {
        if (follower.lastId !== id && follower.client.writable) {
          follower.client.send(state, id);
          follower.lastId = id;
          follower.lastWriteAt = at;
        }
        if (state.status === 'EXPIRED' && follower.lastId === id) {
          detach(follower);
          follower.client.end();
        }
      }
    }
  };

  const closeAll = () => {
    for (const followers of [...byToken.values()])
      for (const follower of [...followers]) {
        detach(follower);
        follower.client.end();
      }
  };

  const loop = createLoop('live-positions', options.intervalMs, tick, logger);

  return {
    start: loop.start,
    async stop() {
      await loop.stop();
      closeAll();
    },
    follow(token, client, sentId) {
      const follower: Follower = { token, client, lastId: sentId, lastWriteAt: now() };
      let followers = byToken.get(token);
      if (!followers) {
        followers = new Set();
        byToken.set(token, followers);
      }
      followers.add(follower);
      count++;
      return () => detach(follower);
    },
    wake: loop.wake,
    closeAll,
    get size() {
      return count;
    },
    get admissionRate() {
      return admissionRate;
    },
  };
}

/** A room's estimate rate and seats left, as liveStatus takes them, from a watch and the figures. */
export function figuresOf(
  figures: RoomFigures | undefined,
  roomId: number,
  watched: Pick<WatchedTokens, 'rates' | 'admissionRate'>,
): [rate: number, seatsLeft: number | null] {
  const measured = watched.rates.get(roomId) ?? (roomId === 0 ? watched.admissionRate : 0);
  return figures ? [figures.rate(roomId, measured), figures.seatsLeft(roomId)] : [measured, null];
}
