/**
 * A buyer's pick from a section's seats without parsing the whole reply (docs/decisions/0065):
 * a 1,000-seat section is ~170 KB of JSON, and 1,000 simulated buyers parsing it on the load
 * generator's one event loop stall the timers of every other request it measures (holds, payments)
 * — work a real buyer's browser does on its own machine. The reply is read whole, as sent; only
 * the chosen seat's object is parsed.
 */
import type { Seat } from './http.js';

const FREE = Buffer.from('"isAvailable":true');
const TAKEN = Buffer.from('"isAvailable":false');
const SEAT_START = Buffer.from('{"seatId":');
const NEXT_SEAT = Buffer.from(',{"seatId":');
const LIST_END = Buffer.from(']');

/**
 * A free seat of a section's seats reply (`{code, message, data: {…, seats: [...]}}`, the schema's
 * field order, no whitespace), chosen uniformly among the free ones with `random`; undefined when
 * none is free. Falls back to parsing the whole reply if its layout is not the one expected.
 */
export function pickFreeSeat(bytes: Buffer, random: () => number = Math.random): Seat | undefined {
  const marks: number[] = [];
  for (let at = bytes.indexOf(FREE); at >= 0; at = bytes.indexOf(FREE, at + FREE.length))
    marks.push(at);
  if (marks.length === 0) return bytes.includes(TAKEN) ? undefined : fromWhole(bytes, random);
  const mark = marks[Math.floor(random() * marks.length)]!;
  const start = bytes.lastIndexOf(SEAT_START, mark);
  const next = bytes.indexOf(NEXT_SEAT, mark);
  const end = next >= 0 ? next : bytes.indexOf(LIST_END, mark);
  try {
    if (start < 0 || end < 0) throw new Error('not a seats reply');
    const seat = JSON.parse(bytes.toString('utf8', start, end)) as Seat;
    if (!seat.isAvailable || typeof seat.seatId !== 'number') throw new Error('not a seat');
    return seat;
  } catch {
    return fromWhole(bytes, random);
  }
}

/** The slow path: the whole reply parsed, a free seat picked among its seats. */
function fromWhole(bytes: Buffer, random: () => number): Seat | undefined {
  const reply = JSON.parse(bytes.toString('utf8')) as { data?: { seats?: Seat[] } };
  const free = (reply.data?.seats ?? []).filter((seat) => seat.isAvailable);
  return free.length === 0 ? undefined : free[Math.floor(random() * free.length)];
}
