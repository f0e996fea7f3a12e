import { html, nothing, type TemplateResult } from 'lit-html';
import type { Seat, Ticket } from './api.js';
import { won } from './i18n.js';
import type { State } from './state.js';
import { field, type Actions, type Tr } from './views.js';

type SeatState = 'free' | 'held' | 'sold' | 'mine';

/** Mine (my hold), free (can be held now), held by someone else, or sold (or not on sale). */
function seatState(seat: Seat, state: State): SeatState {
  if (state.hold?.seatId === seat.seatId) return 'mine';
  if (seat.isAvailable) return 'free';
  return seat.state === 'held' ? 'held' : 'sold';
}

/** Seconds left on the hold, never below zero; computed from the server's expiry, never reset. */
function countdown(state: State, tr: Tr): TemplateResult | typeof nothing {
  if (!state.hold) return nothing;
  const left = Math.max(0, Math.round((Date.parse(state.hold.expiresAt) - Date.now()) / 1000));
  const text = `${Math.floor(left / 60)}:${String(left % 60).padStart(2, '0')}`;
  return html`<p class="countdown" role="timer" aria-live="off">
    ${tr('holdFor')} <strong data-testid="hold-countdown" data-seconds=${left}>${text}</strong>
  </p>`;
}

const seatName = (seat: { label: string | null; seatNumber: number }, tr: Tr) =>
  seat.label !== null && seat.label !== '' ? seat.label : `${tr('seat')} ${seat.seatNumber}`;

export function seatsView(state: State, actions: Actions, tr: Tr): TemplateResult {
  const concert = state.concerts.find((candidate) => candidate.concertId === state.concertId);
  const rows = new Map<string, Seat[]>();
  for (const seat of state.seats) {
    const row = seat.row ?? '';
    rows.set(row, [...(rows.get(row) ?? []), seat]);
  }
  return html`
    <h1 tabindex="-1">${concert?.concertTitle ?? tr('seatMap')}</h1>
    ${
      state.sections.length > 0
        ? html`<nav class="sections" aria-label=${tr('sections')}>
            ${state.sections.map(
              (section) =>
                html`<button
                  type="button"
                  class="section"
                  aria-pressed=${section.sectionKey === state.sectionKey ? 'true' : 'false'}
                  data-testid=${`section-${section.sectionKey}`}
                  @click=${() => void actions.pickSection(section.sectionKey)}
                >
                  <strong>${section.name}</strong> ${section.priceCategory} ·
                  ${won(state.lang, section.price)} · ${section.free} ${tr('seatsLeft')}
                </button>`,
            )}
          </nav>`
        : nothing
    }
    <ul class="legend" aria-label=${tr('seatMap')}>
      ${(['free', 'held', 'sold', 'mine'] as const).map(
        (kind) => html`<li><span class="swatch ${kind}"></span>${tr(kind)}</li>`,
      )}
    </ul>
    <div class="map" role="group" aria-label=${tr('seatMap')}>
      ${[...rows].map(
        ([row, seats]) =>
          html`<div class="row">
            ${row !== '' ? html`<span class="row-name" aria-hidden="true">${row}</span>` : nothing}
            <div class="row-seats">
              ${seats.map((seat) => {
                const kind = seatState(seat, state);
                return html`<button
                  type="button"
                  class="seat ${kind}"
                  data-testid=${`seat-${seat.seatId}`}
                  data-state=${kind}
                  aria-label=${`${seatName(seat, tr)}, ${seat.priceCategory ?? ''} ${won(state.lang, seat.price)}, ${tr(kind)}`}
                  aria-pressed=${kind === 'mine' ? 'true' : 'false'}
                  ?disabled=${kind !== 'free' || state.busy}
                  @click=${() => void actions.hold(seat.seatId)}
                >
                  ${seat.label?.split('-').at(-1) ?? seat.seatNumber}
                </button>`;
              })}
            </div>
          </div>`,
      )}
    </div>
    ${
      state.hold
        ? html`<section class="card holdbar" aria-label=${tr('checkout')}>
            <p>${seatName(state.hold, tr)} · ${won(state.lang, state.hold.price)}</p>
            ${countdown(state, tr)}
            <div class="actions">
              <button
                type="button"
                class="secondary"
                data-testid="release"
                @click=${() => void actions.release()}
              >
                ${tr('release')}
              </button>
              <button type="button" data-testid="checkout" @click=${() => void actions.checkout()}>
                ${tr('checkout')}
              </button>
            </div>
          </section>`
        : nothing
    }
  `;
}

export function checkoutView(state: State, actions: Actions, tr: Tr): TemplateResult {
  const hold = state.hold;
  return html`
    <h1 tabindex="-1">${tr('checkout')}</h1>
    ${
      hold
        ? html`<section class="card">
            <p>${seatName(hold, tr)} · <strong>${won(state.lang, hold.price)}</strong></p>
            ${countdown(state, tr)}
          </section>`
        : nothing
    }
    <section class="card">
      <p>
        ${tr('balance')}:
        <strong data-testid="balance">${won(state.lang, state.balance ?? 0)}</strong>
      </p>
      <form class="inline" @submit=${(event: Event) => void actions.charge(field(event, 'amount'))}>
        <label for="charge-amount">${tr('chargeAmount')}</label>
        <input
          id="charge-amount"
          name="amount"
          data-testid="charge-amount"
          inputmode="numeric"
          required
        />
        <button type="submit" class="secondary" data-testid="charge" ?disabled=${state.busy}>
          ${tr('charge')}
        </button>
      </form>
    </section>
    <div class="actions">
      <button type="button" class="secondary" @click=${() => void actions.back()}>
        ${tr('back')}
      </button>
      <button
        type="button"
        data-testid="pay"
        ?disabled=${!hold || state.busy}
        @click=${() => void actions.pay()}
      >
        ${tr('pay')}${hold ? ` ${won(state.lang, hold.price)}` : ''}
      </button>
    </div>
  `;
}

/** What cancelling refunds, shown before the buyer confirms (the list's quote, the cancel's rule). */
function refundQuote(state: State, ticket: Ticket, tr: Tr): TemplateResult {
  const id = `refund-quote-${ticket.reservationId}`;
  if (ticket.refundQuote === null)
    return html`<p id=${id} data-testid=${id}>${tr('refundClosed')}</p>`;
  return html`<p id=${id}>
    ${tr('confirmCancel').replace('{price}', won(state.lang, ticket.price))}
    <strong data-testid=${id} data-amount=${ticket.refundQuote}
      >${won(state.lang, ticket.refundQuote)}</strong
    >
  </p>`;
}

export function ticketsView(state: State, actions: Actions, tr: Tr): TemplateResult {
  return html`
    <h1 tabindex="-1">${tr('myTickets')}</h1>
    <p>
      ${tr('balance')}:
      <strong data-testid="balance">${won(state.lang, state.balance ?? 0)}</strong>
    </p>
    ${
      state.queue?.status === 'ACTIVE'
        ? html`<button type="button" @click=${() => void actions.concerts()}>
            ${tr('concerts')}
          </button>`
        : html`<button
            type="button"
            data-testid="enter-line"
            @click=${() => void actions.enterLine()}
          >
            ${tr('joinLine')}
          </button>`
    }
    ${state.tickets.length === 0 ? html`<p>${tr('noTickets')}</p>` : nothing}
    <ul class="tickets">
      ${state.tickets.map(
        (ticket) =>
          html`<li
            class="card"
            data-testid=${`ticket-${ticket.reservationId}`}
            data-status=${ticket.status}
          >
            <h2>${ticket.concertTitle}</h2>
            <p>${tr('seat')} ${ticket.seatNumber} · ${won(state.lang, ticket.price)}</p>
            ${
              ticket.status === 'CANCELLED'
                ? html`<p class="tag off">
                    ${tr('cancelled')} · ${tr('refunded')}
                    ${won(state.lang, ticket.refundAmount ?? 0)}
                  </p>`
                : state.confirmCancel === ticket.reservationId
                  ? html`<div
                      role="alertdialog"
                      aria-label=${tr('cancel')}
                      aria-describedby=${`refund-quote-${ticket.reservationId}`}
                    >
                      ${refundQuote(state, ticket, tr)}
                      <div class="actions">
                        <button
                          type="button"
                          class="secondary"
                          @click=${() => void actions.tickets()}
                        >
                          ${tr('back')}
                        </button>
                        <button
                          type="button"
                          class="danger"
                          data-testid=${`confirm-cancel-${ticket.reservationId}`}
                          ?disabled=${ticket.refundQuote === null || state.busy}
                          @click=${() => void actions.cancel(ticket.reservationId)}
                        >
                          ${tr('cancel')}
                        </button>
                      </div>
                    </div>`
                  : html`<button
                      type="button"
                      class="secondary"
                      data-testid=${`cancel-${ticket.reservationId}`}
                      @click=${() => actions.askCancel(ticket.reservationId)}
                    >
                      ${tr('cancel')}
                    </button>`
            }
          </li>`,
      )}
    </ul>
  `;
}
