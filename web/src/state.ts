import type { Concert, Hold, Identity, Joined, QueueState, Seat, Section, Ticket } from './api.js';
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
  concerts: Concert[];
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
  get(identity: Identity, name: 'queue' | 'hold' | 'payKey'): string | undefined {
    return localStorage.getItem(`overture.${name}.${userKey(identity)}`) ?? undefined;
  },
  set(identity: Identity, name: 'queue' | 'hold' | 'payKey', value: string | undefined): void {
    const key = `overture.${name}.${userKey(identity)}`;
    if (value === undefined) localStorage.removeItem(key);
    else localStorage.setItem(key, value);
  },
};

const userKey = (identity: Identity): string =>
  identity.kind === 'client' ? String(identity.userId) : identity.token.slice(-16);

/** A jwt-mode sign-in link: `#token=<JWT>` (taken out of the address once read). */
export function tokenFromLink(): string | undefined {
  const match = /(?:^#|&)token=([^&]+)/.exec(location.hash);
  if (!match?.[1]) return undefined;
  history.replaceState(null, '', location.pathname + location.search);
  return decodeURIComponent(match[1]);
}
