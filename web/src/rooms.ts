import type { Api, Concert, JoinBody, RoomView } from './api.js';
import { solveInWorker } from './pow.js';

const ROOM_REFRESH_MS = 2_000;

/** A room's public view, read while the buyer waits in it (paused, closed, seats left). */
export function watchRoom(
  api: Api,
  concertId: number,
  onView: (view: RoomView | undefined) => void,
): () => void {
  const read = () =>
    void api
      .room(concertId)
      .then(onView)
      .catch(() => undefined);
  read();
  const timer = setInterval(read, ROOM_REFRESH_MS);
  return () => clearInterval(timer);
}

/**
 * The join's proof of work when the room asks for one (public view `powDifficulty` > 0): a
 * challenge from the room, solved in a Web Worker; nothing when it asks for none.
 */
export async function proofOfWork(
  api: Api,
  concertId: number,
  known: RoomView | null | undefined,
  onSolving: (solving: boolean) => void,
): Promise<JoinBody> {
  const room = known ?? (await api.room(concertId));
  if (!room?.powDifficulty) return {};
  onSolving(true);
  try {
    const { challenge, difficulty } = await api.challenge(concertId);
    return { pow: { challenge, solution: await solveInWorker(challenge, difficulty) } };
  } finally {
    onSolving(false);
  }
}

/** The public views of the listed concerts' own rooms (their lines on the cards), as read. */
export async function roomsOf(
  api: Api,
  concerts: Concert[],
): Promise<Record<number, RoomView | undefined>> {
  const views = await Promise.all(
    concerts.map((concert) =>
      concert.hasRoom
        ? api.room(concert.concertId).catch(() => undefined)
        : Promise.resolve(undefined),
    ),
  );
  return Object.fromEntries(concerts.map((concert, i) => [concert.concertId, views[i]]));
}
