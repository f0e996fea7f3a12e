import { render } from 'lit-html';
import { ApiError } from '../http.js';
import { initialLang, won } from '../i18n.js';
import {
  createOperatorApi,
  type ConcertInput,
  type ConcertPatch,
  type OperatorApi,
  type RoomPatch,
  type VenueInput,
} from './api.js';
import { opErrorText, ot } from './i18n.js';
import { savedKey, type OpState, type Screen } from './state.js';
import { view, type OpActions } from './views.js';
import '../style.css';
import './console.css';

/** How often the dashboard reads the report and the line again. */
const POLL_MS = 3_000;
/** Readings kept for the charts (three minutes at POLL_MS). */
const SAMPLES = 60;

const state: OpState = {
  lang: initialLang(),
  screen: 'signin',
  busy: false,
  venues: [],
  concerts: [],
  samples: [],
  confirmShowCancel: false,
  deadLetters: [],
  auditPages: [],
};
let api: OperatorApi | undefined;
let poller: ReturnType<typeof setInterval> | undefined;

const root = document.getElementById('app') as HTMLElement;
root.replaceChildren();

function update(changes: Partial<OpState> = {}): void {
  const screenChanged = changes.screen !== undefined && changes.screen !== state.screen;
  Object.assign(state, changes);
  document.documentElement.lang = state.lang;
  render(view(state, actions), root);
  if (screenChanged) document.querySelector<HTMLElement>('main h1')?.focus();
}

/** Runs an action; a refusal is shown in plain words from its code. */
async function attempt(work: () => Promise<void>): Promise<void> {
  update({ busy: true, error: undefined, notice: undefined });
  try {
    await work();
  } catch (error) {
    const code = error instanceof ApiError ? error.code : 'NETWORK';
    const message = error instanceof ApiError ? error.message : '';
    update({ error: opErrorText(state.lang, code, message) });
    if (code === 'OPERATOR_KEY_INVALID' || code === 'AUTH_INVALID') signOut(false);
  } finally {
    update({ busy: false });
  }
}

const client = (): OperatorApi => {
  if (!api) throw new ApiError('OPERATOR_KEY_REQUIRED', '', 401);
  return api;
};

function go(screen: Screen): void {
  if (screen !== 'dashboard') stopPolling();
  update({ screen });
}

function signOut(forget = true): void {
  stopPolling();
  savedKey.set(undefined);
  api = undefined;
  update({ key: undefined, screen: 'signin', ...(forget ? { error: undefined } : {}) });
}

async function signIn(key: string): Promise<void> {
  if (key === '') throw new ApiError('OPERATOR_KEY_REQUIRED', '', 401);
  api = createOperatorApi(key);
  // The venue list needs the key: a wrong one is refused here, and only a key the server took
  // is kept.
  const venues = await client().venues();
  savedKey.set(key);
  update({ key, venues });
  await showConcerts();
}

async function showVenues(): Promise<void> {
  update({ venues: await client().venues() });
  go('venues');
}

async function showConcerts(): Promise<void> {
  const [concerts, venues] = await Promise.all([client().concerts(), client().venues()]);
  update({ concerts, venues, concertForm: undefined });
  go('concerts');
}

async function openDashboard(concertId: number): Promise<void> {
  update({
    concertId,
    samples: [],
    report: undefined,
    job: undefined,
    room: undefined,
    roomView: undefined,
    confirmShowCancel: false,
  });
  await poll();
  go('dashboard');
  stopPolling();
  poller = setInterval(() => void poll().catch(() => undefined), POLL_MS);
}

/**
 * One reading: the concert's report, its room (settings and public view) or else the line's
 * gauges from /metrics, the cancellation job if any.
 */
async function poll(): Promise<void> {
  const concertId = state.concertId;
  if (concertId === undefined) return;
  const [report, room, roomView] = await Promise.all([
    client().report(concertId),
    client().room(concertId),
    client().roomView(concertId),
  ]);
  // A sale with its own room shows that room's line; any other sale the house line's gauges.
  const line = roomView
    ? {
        waiting: roomView.waiting,
        active: roomView.active,
        activeLimit: roomView.maxActive,
        admissionRate: roomView.admissionRate,
      }
    : await client().line();
  const job = report.cancelled ? await client().showCancel(concertId) : undefined;
  if (state.concertId !== concertId) return;
  const { totals } = report;
  const sample = {
    sold: totals.sold,
    held: totals.held,
    revenue: totals.revenue,
    waiting: line?.waiting ?? 0,
    active: line?.active ?? 0,
  };
  update({
    report,
    line,
    room: room ?? null,
    roomView,
    job,
    samples: [...state.samples, sample].slice(-SAMPLES),
  });
}

/** A room change, then the room read again at once: the change shows in front of the operator. */
async function changeRoom(concertId: number, change: () => Promise<unknown>): Promise<void> {
  await change();
  await poll();
  update({ notice: ot(state.lang, 'saved') });
}

function stopPolling(): void {
  if (poller !== undefined) clearInterval(poller);
  poller = undefined;
}

async function showOperations(): Promise<void> {
  update({ deadLetters: await client().deadLetters() });
  go('operations');
}

async function showAudit(
  before?: number,
  pages: (number | undefined)[] = [undefined],
): Promise<void> {
  update({ audit: await client().audit(before), auditPages: pages });
  go('audit');
}

const actions: OpActions = {
  signIn: (key) => attempt(() => signIn(key.trim())),
  signOut: () => signOut(),
  toggleLang: () => {
    const lang = state.lang === 'en' ? 'ko' : 'en';
    localStorage.setItem('overture.lang', lang);
    update({ lang });
  },
  venues: () => attempt(showVenues),
  concerts: () => attempt(showConcerts),
  operations: () => attempt(showOperations),
  audit: () => attempt(() => showAudit()),
  olderAudit: () =>
    attempt(async () => {
      const before = state.audit?.nextBefore ?? undefined;
      if (before !== undefined) await showAudit(before, [...state.auditPages, before]);
    }),
  newestAudit: () => attempt(() => showAudit()),
  venueForm: (form) => update({ venueForm: form, error: undefined }),
  createVenue: (body: VenueInput) =>
    attempt(async () => {
      const venue = await client().createVenue(body);
      update({ venueForm: undefined, notice: ot(state.lang, 'saved') });
      await showVenues();
      update({ venue: await client().venue(venue.venueId), section: undefined });
    }),
  updateVenue: (venueId, body) =>
    attempt(async () => {
      await client().updateVenue(venueId, body);
      update({ venueForm: undefined });
      await showVenues();
      update({ notice: ot(state.lang, 'saved') });
    }),
  preview: (venueId) =>
    attempt(async () => update({ venue: await client().venue(venueId), section: undefined })),
  openSection: (venueId, key) =>
    attempt(async () => update({ section: await client().section(venueId, key) })),
  concertForm: (form) => update({ concertForm: form, error: undefined }),
  createConcert: (body: ConcertInput) =>
    attempt(async () => {
      const concert = await client().createConcert(body);
      await showConcerts();
      update({ notice: `${ot(state.lang, 'saved')} #${concert.concertId}` });
    }),
  updateConcert: (concertId, body: ConcertPatch) =>
    attempt(async () => {
      await client().updateConcert(concertId, body);
      if (state.screen === 'dashboard') {
        update({ concerts: await client().concerts() });
        await poll();
      } else await showConcerts();
      update({ notice: ot(state.lang, 'saved') });
    }),
  dashboard: (concertId) => attempt(() => openDashboard(concertId)),
  askCancelShow: (ask) => update({ confirmShowCancel: ask }),
  cancelShow: (concertId, reason) =>
    attempt(async () => {
      const job = await client().cancelShow(concertId, reason);
      update({ job, confirmShowCancel: false });
      await poll();
    }),
  cancelReservation: (reservationId) =>
    attempt(async () => {
      const cancelled = await client().cancelReservation(reservationId);
      const amount = won(state.lang, cancelled.refundAmount);
      update({ notice: `${ot(state.lang, 'refundedAmount')}: #${reservationId} · ${amount}` });
    }),
  createRoom: (concertId) =>
    attempt(() => changeRoom(concertId, () => client().createRoom(concertId))),
  updateRoom: (concertId, body: RoomPatch) =>
    attempt(() => changeRoom(concertId, () => client().updateRoom(concertId, body))),
  replay: (letter) =>
    attempt(async () => {
      await client().replay(letter);
      update({ deadLetters: await client().deadLetters(), notice: ot(state.lang, 'replayed') });
    }),
};

update();
const remembered = savedKey.get();
if (remembered !== undefined) void actions.signIn(remembered);
