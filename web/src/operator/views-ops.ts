import { html, nothing, type TemplateResult } from 'lit-html';
import type { OpState } from './state.js';
import { formValues, type OpActions, type OpTr } from './views.js';

const time = (lang: string, iso: string): string =>
  new Date(iso).toLocaleString(lang === 'ko' ? 'ko-KR' : 'en-US', {
    dateStyle: 'short',
    timeStyle: 'medium',
  });

/** Refunds by reservation, and the events no consumer could take (replayed on demand). */
export function operationsView(state: OpState, actions: OpActions, tr: OpTr): TemplateResult {
  const cancel = (event: Event) => {
    const value = formValues(event)('reservationId');
    void actions.cancelReservation(Number(value));
  };
  return html`
    <h1 tabindex="-1">${tr('operations')}</h1>
    <form class="card" @submit=${cancel}>
      <h2>${tr('cancelReservation')}</h2>
      <label for="reservation-id">${tr('reservationId')}</label>
      <input
        id="reservation-id"
        name="reservationId"
        data-testid="reservation-id"
        inputmode="numeric"
        pattern="[1-9][0-9]*"
        required
      />
      <button type="submit" class="danger" data-testid="cancel-reservation" ?disabled=${state.busy}>
        ${tr('cancelReservation')}
      </button>
    </form>
    <section class="card" aria-labelledby="dead-heading">
      <h2 id="dead-heading">${tr('deadLetters')}</h2>
      ${
        state.deadLetters.length === 0
          ? html`<p class="hint" data-testid="no-dead-letters">${tr('noDeadLetters')}</p>`
          : html`<ul class="list">
              ${state.deadLetters.map(
                (letter) =>
                  html`<li class="row-item" data-testid=${`dead-letter-${letter.eventId}`}>
                    <div>
                      <strong>${letter.eventType}</strong> · ${letter.consumer} · ${letter.attempts}
                      ${tr('attempts')}
                      <p class="hint">${letter.lastError ?? ''}</p>
                    </div>
                    <button
                      type="button"
                      class="secondary"
                      data-testid=${`replay-${letter.eventId}`}
                      aria-label=${`${tr('replay')}: ${letter.eventType} ${letter.eventId}`}
                      @click=${() => void actions.replay(letter)}
                    >
                      ${tr('replay')}
                    </button>
                  </li>`,
              )}
            </ul>`
      }
    </section>
  `;
}

/** The audit log, newest first, a page at a time. */
export function auditView(state: OpState, actions: OpActions, tr: OpTr): TemplateResult {
  const page = state.audit;
  const entries = page?.entries ?? [];
  return html`
    <h1 tabindex="-1" id="audit-heading">${tr('audit')}</h1>
    <!-- Wider than a phone: it scrolls sideways, and a keyboard can scroll it (focusable). -->
    <div class="scroll" tabindex="0" role="region" aria-labelledby="audit-heading">
      <table class="table audit" data-testid="audit-log">
        <thead>
          <tr>
            <th scope="col">${tr('at')}</th>
            <th scope="col">${tr('action')}</th>
            <th scope="col">${tr('target')}</th>
            <th scope="col">${tr('outcome')}</th>
            <th scope="col">${tr('actor')}</th>
          </tr>
        </thead>
        <tbody>
          ${entries.map(
            (entry) =>
              html`<tr
                data-testid=${`audit-entry-${entry.auditId}`}
                data-action=${entry.action}
                data-target=${`${entry.targetType}:${entry.targetId ?? ''}`}
              >
                <td data-label=${tr('at')}>
                  <time datetime=${entry.at}>${time(state.lang, entry.at)}</time>
                </td>
                <td data-label=${tr('action')}>${entry.action}</td>
                <td data-label=${tr('target')}>${entry.targetType} ${entry.targetId ?? ''}</td>
                <td data-label=${tr('outcome')}>
                  ${entry.outcome}${entry.code ? ` (${entry.code})` : ''}
                </td>
                <td data-label=${tr('actor')} class="actor">${entry.actor}</td>
              </tr>`,
          )}
        </tbody>
      </table>
    </div>
    <div class="actions">
      ${
        state.auditPages.length > 1
          ? html`<button type="button" class="secondary" @click=${() => void actions.newestAudit()}>
              ${tr('newest')}
            </button>`
          : nothing
      }
      ${
        page?.nextBefore
          ? html`<button
              type="button"
              class="secondary"
              data-testid="audit-older"
              @click=${() => void actions.olderAudit()}
            >
              ${tr('older')}
            </button>`
          : nothing
      }
    </div>
  `;
}
