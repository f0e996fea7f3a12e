import { html, nothing, type TemplateResult } from 'lit-html';
import { banners } from './banners.js';
import { t, type Key } from './i18n.js';
import type { State } from './state.js';
import { concertsView, waitingView } from './views-room.js';
import { checkoutView, seatsView, ticketsView } from './views-shop.js';

/** What the screens can ask the controller (src/main.ts) to do. */
export interface Actions {
  signInWithId: (value: string) => Promise<void>;
  signInWithToken: (token: string) => Promise<void>;
  signOut: () => void;
  toggleLang: () => void;
  enterLine: () => Promise<void>;
  concerts: () => Promise<void>;
  openConcert: (concertId: number) => Promise<void>;
  pickSection: (sectionKey: string) => Promise<void>;
  hold: (seatId: number) => Promise<void>;
  release: () => Promise<void>;
  checkout: () => Promise<void>;
  charge: (amount: string) => Promise<void>;
  pay: () => Promise<void>;
  tickets: () => Promise<void>;
  checkDraw: () => Promise<void>;
  askCancel: (reservationId: number) => void;
  cancel: (reservationId: number) => Promise<void>;
  back: () => Promise<void>;
}

export type Tr = (key: Key) => string;

/** The value of the form's input named `name`, on submit. */
export const field = (event: Event, name: string): string => {
  event.preventDefault();
  const form = event.currentTarget as HTMLFormElement;
  return (form.elements.namedItem(name) as HTMLInputElement).value;
};

export function view(state: State, actions: Actions): TemplateResult {
  const tr: Tr = (key) => t(state.lang, key);
  return html`
    <header class="bar">
      <span class="brand">Overture</span>
      <nav aria-label="Overture">
        ${
          state.identity
            ? html`<button type="button" class="link" @click=${() => void actions.tickets()}>
                  ${tr('myTickets')}
                </button>
                <button type="button" class="link" @click=${actions.signOut}>
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
    <main>
      ${banners(state)}
      ${
        state.admitted && (state.screen === 'concerts' || state.screen === 'seats')
          ? html`<p class="banner admitted" role="alert" data-testid="admitted">
              ${tr('admitted')}
            </p>`
          : nothing
      }
      ${screen(state, actions, tr)}
    </main>
  `;
}

function screen(state: State, actions: Actions, tr: Tr): TemplateResult {
  switch (state.screen) {
    case 'signin':
      return signInView(actions, tr, state.busy);
    case 'waiting':
      return waitingView(state, actions, tr);
    case 'concerts':
      return concertsView(state, actions, tr);
    case 'seats':
      return seatsView(state, actions, tr);
    case 'checkout':
      return checkoutView(state, actions, tr);
    case 'tickets':
      return ticketsView(state, actions, tr);
  }
}

function signInView(actions: Actions, tr: Tr, busy: boolean): TemplateResult {
  return html`
    <h1 tabindex="-1">Overture</h1>
    <p class="lead">${tr('tagline')}</p>
    <form class="card" @submit=${(event: Event) => void actions.signInWithId(field(event, 'user'))}>
      <label for="user-id">${tr('userId')}</label>
      <input
        id="user-id"
        name="user"
        data-testid="user-id"
        inputmode="numeric"
        autocomplete="username"
        required
        value="1001"
      />
      <button type="submit" data-testid="sign-in" ?disabled=${busy}>${tr('signIn')}</button>
    </form>
    <details class="card">
      <summary>${tr('orToken')}</summary>
      <form @submit=${(event: Event) => void actions.signInWithToken(field(event, 'token'))}>
        <label for="jwt">${tr('token')}</label>
        <textarea id="jwt" name="token" rows="3" required></textarea>
        <button type="submit" data-testid="sign-in-token">${tr('signIn')}</button>
      </form>
    </details>
  `;
}
