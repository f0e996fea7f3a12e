import type { Lang } from '../i18n.js';
import type {
  AuditPage,
  Concert,
  DeadLetter,
  Line,
  Report,
  Room,
  RoomView,
  ShowCancel,
  Venue,
  VenueDetail,
  VenueSection,
} from './api.js';

export type Screen = 'signin' | 'venues' | 'concerts' | 'dashboard' | 'operations' | 'audit';

/** One reading of the dashboard, for its small charts. */
export interface Sample {
  sold: number;
  held: number;
  revenue: number;
  waiting: number;
  active: number;
}

/** Everything the console shows; each change re-renders it (lit-html patches the DOM). */
export interface OpState {
  lang: Lang;
  screen: Screen;
  key?: string;
  busy: boolean;
  error?: string;
  notice?: string;
  venues: Venue[];
  /** The venue whose map is previewed (sections with counts, never every seat). */
  venue?: VenueDetail;
  /** One section's rows, opened from the preview. */
  section?: VenueSection;
  /** The venue form: closed, a new venue (its sections' kinds), or a venue's name and address. */
  venueForm?:
    { mode: 'new'; kinds: ('seated' | 'general-admission')[] } | { mode: 'edit'; venue: Venue };
  concerts: Concert[];
  /** The concert form: a new concert (how many categories) or an existing one. */
  concertForm?:
    { mode: 'new'; categories: number } | { mode: 'edit'; concert: Concert; categories: number };
  concertId?: number;
  report?: Report;
  samples: Sample[];
  line?: Line;
  /** The sale's waiting room: null when it has none (the house room serves it), undefined unread. */
  room?: Room | null;
  /** The room's public view (its line and measured rate), when it has a room. */
  roomView?: RoomView;
  job?: ShowCancel;
  confirmShowCancel: boolean;
  deadLetters: DeadLetter[];
  audit?: AuditPage;
  /** The `before` of each audit page shown so far (undefined: the newest). */
  auditPages: (number | undefined)[];
}

/** The key lives in this tab only (sessionStorage): closing the tab signs out. */
export const savedKey = {
  get: (): string | undefined => sessionStorage.getItem('overture.operator') ?? undefined,
  set: (key: string | undefined): void => {
    if (key === undefined) sessionStorage.removeItem('overture.operator');
    else sessionStorage.setItem('overture.operator', key);
  },
};

/** An ISO time as a datetime-local input's value (the browser's time zone). */
export function localInput(iso: string | null | undefined): string {
  if (!iso) return '';
  const date = new Date(iso);
  const shifted = new Date(date.getTime() - date.getTimezoneOffset() * 60_000);
  return shifted.toISOString().slice(0, 16);
}

/** A datetime-local input's value as an ISO time; '' stays undefined. */
export const fromLocalInput = (value: string): string | undefined =>
  value === '' ? undefined : new Date(value).toISOString();
