import type { Identity, QueueState, RoomView } from './api.js';
import { saved } from './state.js';

/**
 * What the page notes for checking a room's draw, per user and room (kept across a refresh): the
 * commitment seen before the opening (a later change of it shows), and the first place in line
 * it was told after the opening (what the draw's place is compared with).
 */
export interface DrawNotes {
  commitment?: string;
  told?: number;
}

export function drawNotes(identity: Identity, concertId: number): DrawNotes {
  const raw = saved.get(identity, `draw.${concertId}`);
  return raw === undefined ? {} : (JSON.parse(raw) as DrawNotes);
}

/** Notes what the line and the room say now, once each: nothing already noted is replaced. */
export function noteDraw(
  identity: Identity,
  queue: Pick<QueueState, 'concertId' | 'status' | 'position' | 'receiptId'> | undefined,
  room?: RoomView,
): void {
  const concertId = queue?.concertId;
  if (!queue?.receiptId || concertId === null || concertId === undefined) return;
  const notes = drawNotes(identity, concertId);
  const next = { ...notes };
  if (queue.status === 'PRE_QUEUE' && room?.seed === null && room.commitment)
    next.commitment ??= room.commitment;
  if (queue.status === 'WAITING' && queue.position > 0) next.told ??= queue.position;
  if (next.commitment !== notes.commitment || next.told !== notes.told)
    saved.set(identity, `draw.${concertId}`, JSON.stringify(next));
}
