import type {
  Concert,
  Hold,
  Identity,
  Joined,
  QueueState,
  RoomView,
  Seat,
  Section,
  Ticket,
} from './api.js';
import type { DrawCheck } from './draw.js';
import type { Lang } from './i18n.js';

export type Screen = 'signin' | 'waiting' | 'concerts' | 'seats' | 'checkout' | 'tickets';

/** Everything the page shows; each change re-renders it (lit-html patches the DOM). */
export interface State {
  lang: Lang;
  screen: Screen;
  identity?: Identity;
  /** The join's reply, with the live fields (the estimate) as the stream brings them. */
  queue?: Joined & Partial<QueueState>;
  /** Set when the line let this buyer in while the page watched: the visual cue. */
  admitted: boolean;
  /** The public list (no token needed): on sale, opening soon, sold out. */
  concerts: Concert[];
  /** The listed roomed concerts' rooms (public view: the line on the card), as read. */
  rooms: Record<number, RoomView | undefined>;
  /** The concert whose join sent the buyer into the house room's line: its seats after admission. */
  wanted?: number;
  /** The room the buyer waits in, read again while waiting (paused, closed, seats left). */
  roomView?: RoomView;
  /** What "check the draw" found in the room the buyer waits in; `checking` while it runs. */
  draw?: DrawCheck | 'checking';
  /** Set while the page solves the room's proof-of-work challenge. */
  solving?: boolean;
  concertId?: number;
  sections: Section[];
  sectionKey?: string;
  seats: Seat[];
  hold?: Hold;
  balance?: number;
  tickets: Ticket[];
  /** The reservation whose cancellation waits for a confirmation. */
  confirmCancel?: number;
  error?: string;
  notice?: string;
  busy: boolean;
}

/** What survives a refresh and is shared by the tabs: localStorage, per user. */
export const saved = {
  identity(): Identity | undefined {
    const raw = localStorage.getItem('overture.identity');
    return raw === null ? undefined : (JSON.parse(raw) as Identity);
  },
  setIdentity(identity: Identity | undefined): void {
    if (identity === undefined) localStorage.removeItem('overture.identity');
    else localStorage.setItem('overture.identity', JSON.stringify(identity));
  },
  get(identity: Identity, name: SavedName): string | undefined {
    return localStorage.getItem(storageKey(identity, name)) ?? undefined;
  },
  set(identity: Identity, name: SavedName, value: string | undefined): void {
    const key = storageKey(identity, name);
    if (value === undefined) localStorage.removeItem(key);
    else localStorage.setItem(key, value);
  },
};

/**
 * What is kept per user: the hold, the payment's key, the room the buyer is in (`room`: its
 * concert id, absent for the house room), the concert whose join sent the buyer into the house
 * room's line (`wanted`: its seats after admission, also after a refresh) and the token of each room (`queue.<concertId>`,
 * `queue.house`): a refresh or another tab joins that room again and gets the same place. Keys:
 * `overture.<name>.<user>`, a room's token `overture.queue.<user>.<concertId>` (the house room's
 * stays `overture.queue.<user>`, as before rooms). `draw.<concertId>`: what the page noted for
 * checking a room's draw, `{commitment, told}` (the commitment seen before the opening, the first
 * place in line it was told after).
 */
type SavedName =
  'hold' | 'payKey' | 'room' | 'wanted' | `queue.${number | 'house'}` | `draw.${number}`;

export const queueSlot = (concertId: number | null | undefined): SavedName =>
  `queue.${concertId ?? 'house'}`;

function storageKey(identity: Identity, name: SavedName): string {
  const room = /^queue\.([0-9]+|house)$/.exec(name)?.[1];
  if (room === undefined) return `overture.${name}.${userKey(identity)}`;
  return `overture.queue.${userKey(identity)}${room === 'house' ? '' : `.${room}`}`;
}

const userKey = (identity: Identity): string =>
  identity.kind === 'client' ? String(identity.userId) : identity.token.slice(-16);

/** A jwt-mode sign-in link: `#token=<JWT>` (taken out of the address once read). */
export function tokenFromLink(): string | undefined {
  const match = /(?:^#|&)token=([^&]+)/.exec(location.hash);
  if (!match?.[1]) return undefined;
  history.replaceState(null, '', location.pathname + location.search);
  return decodeURIComponent(match[1]);
}
