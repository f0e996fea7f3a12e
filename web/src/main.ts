import { render } from 'lit-html';
import { ApiError, createApi, uuid, type Api, type Hold, type Identity } from './api.js';
import { errorText, initialLang, t, translateFooter } from './i18n.js';
import { noteDraw } from './draw-notes.js';
import { chime, followQueue } from './live.js';
import { proofOfWork, roomsOf, watchRoom } from './rooms.js';
import { queueSlot, saved, tokenFromLink, type Screen, type State } from './state.js';
import { useDrawResult } from './views-draw.js';
import { view, type Actions } from './views.js';
import './style.css';

const SEAT_REFRESH_MS = 2_000;

const state: State = {
  lang: initialLang(),
  screen: 'signin',
  admitted: false,
  concerts: [],
  rooms: {},
  sections: [],
  seats: [],
  tickets: [],
  busy: false,
};
let api: Api | undefined;
let stopFollowing: (() => void) | undefined;
let seatTimer: ReturnType<typeof setInterval> | undefined;

const root = document.getElementById('app') as HTMLElement;
// What the HTML shows before the script runs gives way to the rendered page.
root.replaceChildren();

function update(changes: Partial<State> = {}): void {
  const screenChanged = changes.screen !== undefined && changes.screen !== state.screen;
  Object.assign(state, changes);
  document.documentElement.lang = state.lang;
  render(view(state, actions), root);
  translateFooter(state.lang);
  // A new screen: its heading takes the focus, so keyboard and screen-reader users start there.
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
    update({ error: errorText(state.lang, code, message) });
    if (code === 'QUEUE_TOKEN_EXPIRED' || code === 'QUEUE_TOKEN_INVALID') forgetQueue();
  } finally {
    update({ busy: false });
  }
}

const client = (): Api => {
  if (!api) throw new ApiError('AUTH_REQUIRED', '', 401);
  return api;
};
const identity = (): Identity => state.identity as Identity;

function forgetQueue(): void {
  stopFollowing?.();
  stopSeatRefresh();
  saved.set(identity(), queueSlot(state.queue?.concertId), undefined);
  saved.set(identity(), 'room', undefined);
  saved.set(identity(), 'wanted', undefined);
  saved.set(identity(), 'hold', undefined);
  update({ queue: undefined, hold: undefined, wanted: undefined, screen: 'tickets' });
}

function go(screen: Screen): void {
  if (screen !== 'seats') stopSeatRefresh();
  update({ screen });
}

async function signIn(next: Identity): Promise<void> {
  api = createApi(next, () => state.queue?.token);
  // The balance answers with the identity alone: a wrong id or token is refused here, and only
  // an identity the server took is remembered.
  const { balance } = await client().balance();
  saved.setIdentity(next);
  update({ identity: next, balance });
  const rawHold = saved.get(next, 'hold');
  update({ hold: rawHold === undefined ? undefined : (JSON.parse(rawHold) as Hold) });
  // Joining again answers the same token and place while it lives: a refresh (or another tab)
  // joins the room this buyer was in again and keeps the place. A buyer in no line sees the
  // public list first: no line is joined just to see what is on sale (decision 0064).
  const room = saved.get(next, 'room');
  if (room !== undefined) return enterLine(Number(room));
  const wanted = saved.get(next, 'wanted');
  update({ wanted: wanted === undefined ? undefined : Number(wanted) });
  if (saved.get(next, queueSlot(undefined)) !== undefined || rawHold !== undefined)
    return enterLine();
  await showConcerts();
}

/**
 * Joins the line — the house room, or a concert's room — or finds this user's place in it again
 * (the same token and place): what a refresh and a second tab do.
 */
async function enterLine(concertId?: number): Promise<void> {
  const body =
    concertId === undefined
      ? undefined
      : {
          concertId,
          ...(await proofOfWork(client(), concertId, undefined, (solving) => update({ solving }))),
        };
  const joined = await client().join(body);
  const room = joined.concertId ?? undefined;
  saved.set(identity(), queueSlot(room), joined.token);
  saved.set(identity(), 'room', room === undefined ? undefined : String(room));
  update({ queue: joined, roomView: undefined, draw: undefined });
  noteDraw(identity(), joined);
  if (joined.status === 'ACTIVE') return admitted(false);
  go('waiting');
  stopFollowing?.();
  const stopRoom =
    room === undefined
      ? undefined
      : watchRoom(client(), room, (roomView) => {
          if (state.queue?.concertId !== room) return;
          noteDraw(identity(), state.queue, roomView);
          update({ roomView });
        });
  const stopQueue = followQueue(
    identity(),
    joined,
    (status) => client().status(status),
    (live) => {
      if (!state.queue) return;
      update({ queue: { ...state.queue, ...live } });
      noteDraw(identity(), state.queue);
      if (live.status === 'ACTIVE') void admitted(true);
      if (live.status === 'EXPIRED') update({ error: t(state.lang, 'expired') });
    },
    () => update({ error: t(state.lang, 'expired') }),
  );
  stopFollowing = () => {
    stopQueue();
    stopRoom?.();
  };
}

async function admitted(whileWatching: boolean): Promise<void> {
  stopFollowing?.();
  if (whileWatching) {
    chime();
    update({ admitted: true });
  }
  if (state.hold) return openCheckout();
  // A room's token books only its concert: straight to its seat map; the house room's, the
  // concert whose join sent the buyer into its line.
  const room = state.queue?.concertId ?? state.wanted;
  if (room === undefined) return showConcerts();
  if (state.concerts.length === 0) update({ concerts: await client().onSale() });
  await openConcert(room);
}

/** The public list, read without any token (decision 0064); then each roomed concert's line. */
async function showConcerts(): Promise<void> {
  const concerts = await client().onSale();
  update({ concerts });
  go('concerts');
  update({ rooms: await roomsOf(client(), concerts) });
}

/** A concert's join button: its own room's line, or the house room's line, then its seats. */
async function joinConcert(concertId: number): Promise<void> {
  if (state.concerts.find((concert) => concert.concertId === concertId)?.hasRoom) {
    if (state.queue?.concertId === concertId && state.queue.status === 'ACTIVE')
      return openConcert(concertId);
    const house = state.queue?.concertId === null && !state.hold ? state.queue.token : undefined;
    await enterLine(concertId);
    // The house room's slot was only for the list: freed for the next in its line.
    if (house !== undefined) {
      saved.set(identity(), queueSlot(undefined), undefined);
      await client()
        .leave(house)
        .catch(() => undefined);
    }
    return;
  }
  update({ wanted: concertId });
  saved.set(identity(), 'wanted', String(concertId));
  const house = state.queue?.concertId === null ? state.queue : undefined;
  if (house?.status === 'ACTIVE') return openConcert(concertId);
  // Into the house room's line (or back to this buyer's place in it): admitted, the seats.
  await enterLine();
}

async function openConcert(concertId: number): Promise<void> {
  const sections = await client().sections(concertId);
  const sectionKey = sections[0]?.sectionKey;
  update({ concertId, sections, sectionKey, seats: await client().seats(concertId, sectionKey) });
  go('seats');
  stopSeatRefresh();
  // No seat stream exists: the map is read again every two seconds while it is shown.
  seatTimer = setInterval(() => void refreshSeats(), SEAT_REFRESH_MS);
}

async function refreshSeats(): Promise<void> {
  const { concertId, sectionKey } = state;
  if (concertId === undefined || state.busy) return;
  try {
    const [sections, seats] = await Promise.all([
      client().sections(concertId),
      client().seats(concertId, sectionKey),
    ]);
    if (state.concertId === concertId && state.sectionKey === sectionKey)
      update({ sections, seats });
  } catch {
    // The next round tries again; an action shows its own refusal.
  }
}

function stopSeatRefresh(): void {
  if (seatTimer !== undefined) clearInterval(seatTimer);
  seatTimer = undefined;
}

async function holdSeat(seatId: number): Promise<void> {
  const { concertId } = state;
  const seat = state.seats.find((candidate) => candidate.seatId === seatId);
  if (concertId === undefined || !seat) return;
  const held = await client().hold(concertId, seatId);
  // Asking again for a held seat answers the same expiry: the countdown never resets.
  const hold: Hold = { ...held, concertId, price: seat.price, label: seat.label ?? '' };
  saved.set(identity(), 'hold', JSON.stringify(hold));
  saved.set(identity(), 'payKey', uuid());
  update({ hold });
  await refreshSeats();
}

async function release(): Promise<void> {
  if (!state.hold) return;
  await client().release(state.hold.concertId);
  saved.set(identity(), 'hold', undefined);
  update({ hold: undefined });
  await refreshSeats();
}

async function openCheckout(): Promise<void> {
  update({ balance: (await client().balance()).balance });
  go('checkout');
}

async function pay(): Promise<void> {
  const { hold } = state;
  if (!hold) return;
  const key = saved.get(identity(), 'payKey') ?? uuid();
  saved.set(identity(), 'payKey', key);
  const paid = await client().pay(hold.seatId, key);
  saved.set(identity(), 'hold', undefined);
  saved.set(identity(), 'payKey', undefined);
  saved.set(identity(), queueSlot(state.queue?.concertId), undefined);
  saved.set(identity(), 'room', undefined);
  saved.set(identity(), 'wanted', undefined);
  update({ hold: undefined, queue: undefined, wanted: undefined, balance: paid.balance });
  await showTickets();
  update({ notice: t(state.lang, 'paid') });
}

async function showTickets(): Promise<void> {
  const [tickets, balance] = await Promise.all([client().tickets(), client().balance()]);
  update({ tickets, balance: balance.balance, confirmCancel: undefined });
  go('tickets');
}

const actions: Actions = {
  signInWithId: (value) =>
    attempt(async () => {
      if (!/^[1-9][0-9]{0,15}$/.test(value.trim()))
        throw new ApiError('CLIENT_ID_INVALID', '', 400);
      await signIn({ kind: 'client', userId: Number(value.trim()) });
    }),
  signInWithToken: (token) => attempt(() => signIn({ kind: 'jwt', token: token.trim() })),
  signOut: () => {
    stopFollowing?.();
    stopSeatRefresh();
    saved.setIdentity(undefined);
    api = undefined;
    update({ identity: undefined, queue: undefined, hold: undefined, wanted: undefined });
    go('signin');
  },
  toggleLang: () => {
    const lang = state.lang === 'en' ? 'ko' : 'en';
    localStorage.setItem('overture.lang', lang);
    update({ lang });
  },
  enterLine: () => attempt(() => enterLine(state.queue?.concertId ?? undefined)),
  concerts: () => attempt(showConcerts),
  openConcert: (concertId) => attempt(() => joinConcert(concertId)),
  pickSection: (sectionKey) =>
    attempt(async () => {
      update({ sectionKey });
      update({ seats: await client().seats(state.concertId ?? 0, sectionKey) });
    }),
  hold: (seatId) => attempt(() => holdSeat(seatId)),
  release: () => attempt(release),
  checkout: () => attempt(openCheckout),
  charge: (amount) =>
    attempt(async () => {
      if (!/^[1-9][0-9]*$/.test(amount.trim())) throw new ApiError('INVALID_REQUEST', '', 400);
      update({ balance: (await client().charge(Number(amount.trim()))).balance });
    }),
  pay: () => attempt(pay),
  tickets: () => attempt(showTickets),
  checkDraw: () =>
    attempt(async () => {
      // Loaded on the first check: most buyers never ask, and the page stays small.
      const { checkRoomDraw, drawResult } = await import('./draw-check.js');
      useDrawResult(drawResult);
      await checkRoomDraw(client(), identity(), state.queue, (draw) => update({ draw }));
    }),
  askCancel: (reservationId) => update({ confirmCancel: reservationId }),
  cancel: (reservationId) =>
    attempt(async () => {
      const { refundAmount } = await client().cancel(reservationId);
      await showTickets();
      update({ notice: `${t(state.lang, 'refunded')}: ${refundAmount.toLocaleString()}` });
    }),
  back: () => attempt(showConcerts),
};

// The countdowns (a hold's, a pre-queue's, the list's openings) are redrawn every second; the
// list is read again in the second one of its openings comes.
setInterval(() => {
  const opens = state.screen === 'concerts' ? state.concerts.map((c) => c.opensAt ?? '') : [];
  if (state.hold || state.queue?.status === 'PRE_QUEUE' || opens.some(Boolean)) update();
  if (opens.some((at) => Math.abs(Date.parse(at) - Date.now() + 500) <= 500))
    void showConcerts().catch(() => undefined);
}, 1_000);

update();
// A sign-in link opened in a tab already showing the page changes only the address's hash.
window.addEventListener('hashchange', () => {
  const token = tokenFromLink();
  if (token !== undefined) void actions.signInWithToken(token);
});
const linkToken = tokenFromLink();
const remembered = linkToken === undefined ? saved.identity() : undefined;
if (linkToken !== undefined) void actions.signInWithToken(linkToken);
else if (remembered !== undefined) void attempt(() => signIn(remembered));
