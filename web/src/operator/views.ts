import { html, nothing, type TemplateResult } from 'lit-html';
import { banners } from '../banners.js';
import type { ConcertInput, ConcertPatch, DeadLetter, RoomPatch, VenueInput } from './api.js';
import { ot, type OpKey } from './i18n.js';
import type { OpState } from './state.js';
import { concertsView } from './views-concerts.js';
import { dashboardView } from './views-dashboard.js';
import { auditView, operationsView } from './views-ops.js';
import { venuesView } from './views-venues.js';

/** What the console's screens can ask its controller (main.ts) to do. */
export interface OpActions {
  signIn: (key: string) => Promise<void>;
  signOut: () => void;
  toggleLang: () => void;
  venues: () => Promise<void>;
  concerts: () => Promise<void>;
  operations: () => Promise<void>;
  audit: () => Promise<void>;
  olderAudit: () => Promise<void>;
  newestAudit: () => Promise<void>;
  venueForm: (form: OpState['venueForm']) => void;
  createVenue: (body: VenueInput) => Promise<void>;
  updateVenue: (venueId: number, body: { name: string; address: string }) => Promise<void>;
  preview: (venueId: number) => Promise<void>;
  openSection: (venueId: number, key: string) => Promise<void>;
  concertForm: (form: OpState['concertForm']) => void;
  createConcert: (body: ConcertInput) => Promise<void>;
  updateConcert: (concertId: number, body: ConcertPatch) => Promise<void>;
  dashboard: (concertId: number) => Promise<void>;
  askCancelShow: (ask: boolean) => void;
  cancelShow: (concertId: number, reason: string) => Promise<void>;
  cancelReservation: (reservationId: number) => Promise<void>;
  replay: (letter: DeadLetter) => Promise<void>;
  createRoom: (concertId: number) => Promise<void>;
  updateRoom: (concertId: number, body: RoomPatch) => Promise<void>;
}

export type OpTr = (key: OpKey) => string;

/** The submitted form's fields by name (on submit; the page does not navigate). */
export function formValues(event: Event): (name: string) => string {
  event.preventDefault();
  const data = new FormData(event.currentTarget as HTMLFormElement);
  return (name) => {
    const value = data.get(name);
    return typeof value === 'string' ? value.trim() : '';
  };
}

export function view(state: OpState, actions: OpActions): TemplateResult {
  const tr: OpTr = (key) => ot(state.lang, key);
  const tab = (screen: OpState['screen'], key: OpKey, go: () => Promise<void>) =>
    html`<button
      type="button"
      class="link"
      data-testid=${`nav-${screen}`}
      aria-current=${state.screen === screen ? 'page' : 'false'}
      @click=${() => void go()}
    >
      ${tr(key)}
    </button>`;
  return html`
    <header class="bar">
      <span class="brand">Overture · ${tr('console')}</span>
      <nav aria-label=${tr('console')}>
        ${
          state.key
            ? html`${tab('concerts', 'concerts', actions.concerts)}
                ${tab('venues', 'venues', actions.venues)}
                ${tab('operations', 'operations', actions.operations)}
                ${tab('audit', 'audit', actions.audit)}
                <button type="button" class="link" data-testid="sign-out" @click=${actions.signOut}>
                  ${tr('signOut')}
                </button>`
            : nothing
        }
        <button
          type="button"
          class="link"
          lang=${state.lang === 'en' ? 'ko' : 'en'}
          data-testid="language"
          @click=${actions.toggleLang}
        >
          ${tr('language')}
        </button>
      </nav>
    </header>
    <main class="console">${banners(state)} ${screen(state, actions, tr)}</main>
  `;
}

function screen(state: OpState, actions: OpActions, tr: OpTr): TemplateResult {
  switch (state.screen) {
    case 'signin':
      return signInView(actions, tr, state.busy);
    case 'venues':
      return venuesView(state, actions, tr);
    case 'concerts':
      return concertsView(state, actions, tr);
    case 'dashboard':
      return dashboardView(state, actions, tr);
    case 'operations':
      return operationsView(state, actions, tr);
    case 'audit':
      return auditView(state, actions, tr);
  }
}

function signInView(actions: OpActions, tr: OpTr, busy: boolean): TemplateResult {
  return html`
    <h1 tabindex="-1">${tr('console')}</h1>
    <form class="card" @submit=${(event: Event) => void actions.signIn(formValues(event)('key'))}>
      <label for="operator-key">${tr('keyLabel')}</label>
      <input
        id="operator-key"
        name="key"
        type="password"
        data-testid="operator-key"
        autocomplete="current-password"
        aria-describedby="operator-key-hint"
        required
      />
      <p class="hint" id="operator-key-hint">${tr('keyHint')}</p>
      <button type="submit" data-testid="operator-sign-in" ?disabled=${busy}>
        ${tr('signIn')}
      </button>
    </form>
  `;
}
