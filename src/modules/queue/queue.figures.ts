import type { RoomSettings } from '../rooms/rooms.store.js';
import { roomAdmissionRate } from './queue.estimate.js';

/**
 * The per-room figures a waiting buyer is shown beside their place (docs/rooms.md, decision 0058):
 * the seats left of the room's concert (free + held; null for the house room, whose line serves
 * every concert without a room) and the rate its estimate uses (measured, capped by the room's
 * admissionPerMinute). Seats left are read for many rooms in one query, at most once per
 * `maxAgeMs` per room on this instance — never per buyer or per stream push.
 */
export interface RoomFigures {
  /** Reads the seats left of these rooms that are older than maxAgeMs (one query; shared in flight). */
  refresh(roomIds: Iterable<number>): Promise<void>;
  /** The seats left as last read; null for the house room (and before a first read). */
  seatsLeft(roomId: number): number | null;
  /** The admissions per second a room's estimates use, from its measured steady rate. */
  rate(roomId: number, measured: number): number;
}

export function createRoomFigures(deps: {
  seatsLeftOf: (concertIds: readonly number[]) => Promise<Map<number, number>>;
  settings: (roomId: number) => RoomSettings | undefined;
  maxAgeMs: number;
  now?: () => number;
}): RoomFigures {
  const now = deps.now ?? Date.now;
  const seats = new Map<number, { left: number; at: number }>();
  const reading = new Map<number, Promise<void>>();

  return {
    async refresh(roomIds) {
      const at = now();
      const due: number[] = [];
      const waits: Promise<void>[] = [];
      for (const roomId of new Set(roomIds)) {
        if (roomId === 0) continue;
        const pending = reading.get(roomId);
        if (pending) waits.push(pending);
        else if (at - (seats.get(roomId)?.at ?? -Infinity) >= deps.maxAgeMs) due.push(roomId);
      }
      if (due.length > 0) {
        const read = deps.seatsLeftOf(due).then(
          (left) => {
            for (const roomId of due) seats.set(roomId, { left: left.get(roomId) ?? 0, at });
          },
          // A failed read keeps the last figures; the next refresh tries again.
          () => undefined,
        );
        const done = read.finally(() => {
          for (const roomId of due) if (reading.get(roomId) === done) reading.delete(roomId);
        });
        for (const roomId of due) reading.set(roomId, done);
        waits.push(done);
      }
      await Promise.all(waits);
    },
    seatsLeft: (roomId) => (roomId === 0 ? null : (seats.get(roomId)?.left ?? null)),
    rate: (roomId, measured) =>
      roomAdmissionRate(measured, deps.settings(roomId)?.admissionPerMinute ?? null),
  };
}
