import { html, nothing, type TemplateResult } from 'lit-html';
import type { Concert, RoomView } from './api.js';
import { won } from './i18n.js';
import type { State } from './state.js';
import { drawView } from './views-draw.js';
import type { Actions, Tr } from './views.js';

/** "1:02:03" / "4:05": what is left until `iso`, never below zero. */
function timeLeft(iso: string): { seconds: number; text: string } {
  const seconds = Math.max(0, Math.round((Date.parse(iso) - Date.now()) / 1000));
  const hours = Math.floor(seconds / 3600);
  const rest = `${String(Math.floor((seconds % 3600) / 60)).padStart(hours > 0 ? 2 : 1, '0')}:${String(seconds % 60).padStart(2, '0')}`;
  return { seconds, text: hours > 0 ? `${hours}:${rest}` : rest };
}

const soldOut = (room: RoomView | null | undefined): boolean =>
  room !== null && room !== undefined && (room.soldOut || room.seatsLeft === 0);

const opensLater = (room: { opensAt?: string | null } | undefined): string | undefined =>
  room?.opensAt && Date.parse(room.opensAt) > Date.now() ? room.opensAt : undefined;

/** The room's state in words when it is not simply open: paused keeps everyone's place. */
function roomNotice(room: RoomView | undefined, tr: Tr): TemplateResult | typeof nothing {
  if (room?.state === 'paused')
    return html`<p class="banner notice" data-testid="room-paused" data-state="paused">
      ${tr('roomPaused')}
    </p>`;
  if (room?.state === 'closed')
    return html`<p class="banner notice" data-testid="room-closed" data-state="closed">
      ${tr('roomClosed')}
    </p>`;
  return nothing;
}

export function waitingView(state: State, actions: Actions, tr: Tr): TemplateResult {
  const queue = state.queue;
  if (!queue) return html`<h1 tabindex="-1">${tr('waitingRoom')}</h1>`;
  const concert = state.concerts.find((candidate) => candidate.concertId === queue.concertId);
  const room = state.roomView;
  const waiting = queue.status === 'WAITING';
  const wait = queue.estimatedWaitSeconds;
  const seatsLeft = queue.seatsLeft ?? room?.seatsLeft;
  const opensAt = queue.opensAt ?? room?.opensAt ?? undefined;
  const fact = (label: string, testid: string, value: string) =>
    html`<div>
      <dt>${label}</dt>
      <dd data-testid=${testid}>${value}</dd>
    </div>`;
  return html`
    <h1 tabindex="-1">
      ${tr('waitingRoom')}${concert ? html` · ${concert.concertTitle}` : nothing}
    </h1>
    ${roomNotice(room, tr)}
    <section class="card room" aria-live="polite">
      <p class="status" data-testid="queue-status" data-status=${queue.status}>
        ${tr('status')}: <strong>${queue.status}</strong>
      </p>
      ${
        queue.status === 'PRE_QUEUE'
          ? html`<p>${tr('preQueue')}</p>
              <dl class="facts">
                ${queue.receiptId ? fact(tr('receipt'), 'queue-receipt', queue.receiptId) : nothing}
                ${
                  opensAt
                    ? html`<div>
                        <dt>${tr('opensIn')}</dt>
                        <dd>
                          <span
                            role="timer"
                            aria-live="off"
                            data-testid="queue-opens-in"
                            data-seconds=${timeLeft(opensAt).seconds}
                            >${timeLeft(opensAt).text}</span
                          >
                        </dd>
                      </div>`
                    : nothing
                }
              </dl>`
          : nothing
      }
      ${
        queue.status === 'SOLD_OUT'
          ? html`<p class="banner error" data-testid="queue-sold-out">${tr('soldOutRoom')}</p>`
          : nothing
      }
      ${
        waiting
          ? html`<dl class="facts">
              ${fact(tr('position'), 'queue-position', queue.position.toLocaleString())}
              ${fact(tr('ahead'), 'queue-ahead', queue.ahead.toLocaleString())}
              ${
                typeof wait === 'number' && room?.state !== 'paused'
                  ? fact(tr('wait'), 'queue-wait', `${wait}${tr('seconds')}`)
                  : nothing
              }
              ${
                seatsLeft !== undefined
                  ? fact(tr('seatsLeftLabel'), 'queue-seats-left', seatsLeft.toLocaleString())
                  : nothing
              }
            </dl>`
          : nothing
      }
      <p class="hint">${tr('keepOpen')}</p>
    </section>
    ${drawView(state, actions, tr)}
    ${
      queue.status === 'EXPIRED'
        ? html`<button type="button" @click=${() => void actions.enterLine()}>
            ${tr('joinLine')}
          </button>`
        : nothing
    }
  `;
}

/** A countdown to `iso` with its hook (`data-seconds`), for a card or the waiting room. */
const timer = (iso: string, testid: string) =>
  html`<span
    role="timer"
    aria-live="off"
    data-testid=${testid}
    data-seconds=${timeLeft(iso).seconds}
    >${timeLeft(iso).text}</span
  >`;

/** What a concert's card says of its sale (the public list's status): sold out, opening soon… */
function saleTag(concert: Concert, room: RoomView | undefined, tr: Tr) {
  const id = concert.concertId;
  const state = room?.state ?? concert.roomState;
  if (concert.soldOut || soldOut(room))
    return html`<p class="tag off" data-sale="sold-out">${tr('soldOut')}</p>`;
  const opens = opensLater(concert);
  if (opens)
    return html`<p class="tag soon" data-sale="opening-soon">
      ${tr('opensIn')} ${timer(opens, `opens-in-${id}`)}
      ${
        concert.preQueueOpensAt && Date.parse(concert.preQueueOpensAt) > Date.now()
          ? html`· ${tr('preQueueIn')} ${timer(concert.preQueueOpensAt, `pre-queue-in-${id}`)}`
          : nothing
      }
    </p>`;
  if (state === 'paused') return html`<p class="tag off" data-sale="paused">${tr('pausedTag')}</p>`;
  if (state === 'closed') return html`<p class="tag off" data-sale="closed">${tr('closedTag')}</p>`;
  return html`<p class="tag on" data-sale="on-sale">${tr('onSale')}</p>`;
}

/** Whether the card's button can act now: not sold out or closed, and open to a join. */
function joinable(concert: Concert, room: RoomView | undefined): boolean {
  if (concert.soldOut || soldOut(room) || (room?.state ?? concert.roomState) === 'closed')
    return false;
  if (!opensLater(concert)) return true;
  // Before the opening only a room's pre-queue takes joins, from its window's start.
  const window = concert.preQueueOpensAt;
  return concert.hasRoom && (window === null || Date.parse(window) <= Date.now());
}

export function concertsView(state: State, actions: Actions, tr: Tr): TemplateResult {
  const date = (iso: string) =>
    new Date(iso).toLocaleString(state.lang === 'ko' ? 'ko-KR' : 'en-US', {
      dateStyle: 'medium',
      timeStyle: 'short',
    });
  return html`
    <h1 tabindex="-1">${tr('concerts')}</h1>
    ${
      state.solving
        ? html`<p class="banner notice" role="status" data-testid="pow-solving">
            ${tr('solving')}
          </p>`
        : nothing
    }
    <ul class="concerts">
      ${state.concerts.map((concert) => {
        const room = state.rooms[concert.concertId];
        const label = concert.hasRoom ? tr('joinRoom') : tr('chooseSeats');
        return html`
          <li class="card concert" data-testid=${`concert-${concert.concertId}`}>
            <h2>${concert.concertTitle}</h2>
            <p>
              ${concert.concertVenue} ·
              <time datetime=${concert.concertDateTime}>${date(concert.concertDateTime)}</time>
              ${
                concert.priceMin !== null
                  ? html`· ${tr('fromPrice')} ${won(state.lang, concert.priceMin)}`
                  : nothing
              }
            </p>
            ${saleTag(concert, room, tr)}
            ${
              concert.hasRoom
                ? html`<p class="hint" data-testid=${`room-${concert.concertId}`}>
                    ${tr('ownRoom')}
                    ${
                      room
                        ? html`· ${(room.waiting + room.preQueue).toLocaleString()} ${tr('inLine')}`
                        : nothing
                    }
                    · ${(room?.seatsLeft ?? concert.seatsLeft).toLocaleString()} ${tr('seatsLeft')}
                  </p>`
                : nothing
            }
            <button
              type="button"
              data-testid=${`join-${concert.concertId}`}
              ?disabled=${!joinable(concert, room) || state.busy}
              aria-label=${`${label}: ${concert.concertTitle}`}
              @click=${() => void actions.openConcert(concert.concertId)}
            >
              ${label}
            </button>
          </li>
        `;
      })}
    </ul>
  `;
}
