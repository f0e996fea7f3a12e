import { html, nothing, type TemplateResult } from 'lit-html';
import { won } from '../i18n.js';
import { sparkline } from './chart.js';
import { roomControls } from './views-room.js';
import type { Sample, OpState } from './state.js';
import { formValues, type OpActions, type OpTr } from './views.js';

function stat(
  testid: string,
  label: string,
  value: string,
  history?: { values: number[]; label: string },
): TemplateResult {
  // The chart sits in the figure's <dd>: a definition list's groups hold only <dt> and <dd>.
  return html`<div class="stat">
    <dt>${label}</dt>
    <dd>
      <span data-testid=${testid}>${value}</span>${
        history ? sparkline(history.values, history.label, `${testid}-chart`) : nothing
      }
    </dd>
  </div>`;
}

/** The sale opens in the future: the dashboard offers to open it now. */
function opensLater(state: OpState, concertId: number): boolean {
  const opensAt = state.concerts.find((concert) => concert.concertId === concertId)?.saleOpensAt;
  return opensAt !== null && opensAt !== undefined && Date.parse(opensAt) > Date.now();
}

export function dashboardView(state: OpState, actions: OpActions, tr: OpTr): TemplateResult {
  const report = state.report;
  if (!report)
    return html`<h1 tabindex="-1">${tr('dashboard')}</h1>
      <p>${tr('loading')}</p>`;
  const { totals } = report;
  const series = (pick: (sample: Sample) => number, label: string) => ({
    values: state.samples.map(pick),
    label: `${label}: ${state.samples.map(pick).join(', ')}`,
  });
  const line = state.line;
  const number = (value: number) => value.toLocaleString(state.lang === 'ko' ? 'ko-KR' : 'en-US');
  return html`
    <h1 tabindex="-1">${report.title}</h1>
    <p class="hint">
      ${tr('dashboard')} · #${report.concertId} ·
      <span data-testid="dashboard-live">${tr('live')}</span>
      ${report.cancelled ? html` · <strong class="tag off">${tr('cancelled')}</strong>` : nothing}
    </p>
    <section class="card" aria-labelledby="sale-heading" data-testid="sale-stats">
      <h2 id="sale-heading">${tr('sale')}</h2>
      <dl class="stats">
        ${stat(
          'stat-sold',
          tr('sold'),
          number(totals.sold),
          series((s) => s.sold, tr('sold')),
        )}
        ${stat(
          'stat-held',
          tr('held'),
          number(totals.held),
          series((s) => s.held, tr('held')),
        )}
        ${stat('stat-free', tr('free'), number(totals.free))}
        ${stat(
          'stat-revenue',
          tr('revenue'),
          won(state.lang, totals.revenue),
          series((s) => s.revenue, tr('revenue')),
        )}
        ${stat('stat-refunds', tr('refunds'), won(state.lang, totals.refunds))}
        ${stat('stat-net', tr('net'), won(state.lang, totals.net))}
        ${stat('stat-buyers', tr('buyers'), number(totals.buyers))}
      </dl>
      <table class="table" data-testid="section-stats">
        <thead>
          <tr>
            <th scope="col">${tr('section')}</th>
            <th scope="col">${tr('category')}</th>
            <th scope="col">${tr('sold')}</th>
            <th scope="col">${tr('held')}</th>
            <th scope="col">${tr('free')}</th>
          </tr>
        </thead>
        <tbody>
          ${report.sections.map(
            (section) =>
              html`<tr>
                <th scope="row">${section.sectionName ?? '—'}</th>
                <td>${section.category ?? '—'}</td>
                <td>${number(section.sold)}</td>
                <td>${number(section.held)}</td>
                <td>${number(section.free)}</td>
              </tr>`,
          )}
        </tbody>
      </table>
      ${
        report.cancelled || !opensLater(state, report.concertId)
          ? nothing
          : html`<button
              type="button"
              class="secondary"
              data-testid="open-sale"
              @click=${() =>
                void actions.updateConcert(report.concertId, {
                  saleOpensAt: new Date().toISOString(),
                })}
            >
              ${tr('openSaleNow')}
            </button>`
      }
    </section>
    <section class="card" aria-labelledby="line-heading">
      <h2 id="line-heading">${state.roomView ? tr('roomLine') : tr('line')}</h2>
      ${
        line
          ? html`<dl class="stats">
              ${stat(
                'stat-waiting',
                tr('waiting'),
                number(line.waiting),
                series((s) => s.waiting, tr('waiting')),
              )}
              ${stat(
                'stat-active',
                tr('active'),
                number(line.active),
                series((s) => s.active, tr('active')),
              )}
              ${stat('stat-active-limit', tr('activeLimit'), number(line.activeLimit))}
              ${stat(
                'stat-admission-rate',
                state.roomView ? tr('admissionPerMinute') : tr('admissionRate'),
                line.admissionRate.toFixed(state.roomView ? 0 : 2),
              )}
            </dl>`
          : html`<p class="hint" data-testid="no-line">${tr('noLine')}</p>`
      }
      ${roomControls(state, actions, tr)}
    </section>
    ${cancelSection(state, actions, tr)}
  `;
}

function cancelSection(state: OpState, actions: OpActions, tr: OpTr): TemplateResult {
  const report = state.report;
  if (!report) return html``;
  const job = state.job;
  if (job)
    return html`<section class="card" aria-labelledby="job-heading" aria-live="polite">
      <h2 id="job-heading">${tr('job')}</h2>
      <p data-testid="job-state" data-state=${job.state}>
        <strong>${job.state === 'done' ? tr('done') : tr('running')}</strong> ·
        <span data-testid="job-refunded">${job.refunded}</span> ${tr('refunded')} ·
        <span data-testid="job-remaining">${job.remaining}</span> ${tr('remaining')}
      </p>
      <progress
        max=${Math.max(1, job.total)}
        value=${job.refunded}
        aria-label=${tr('job')}
      ></progress>
    </section>`;
  if (!state.confirmShowCancel)
    return html`<button
      type="button"
      class="danger"
      data-testid="cancel-show"
      @click=${() => actions.askCancelShow(true)}
    >
      ${tr('cancelShow')}
    </button>`;
  const submit = (event: Event) =>
    void actions.cancelShow(report.concertId, formValues(event)('reason'));
  return html`<form
    class="card"
    role="alertdialog"
    aria-labelledby="cancel-heading"
    @submit=${submit}
  >
    <h2 id="cancel-heading">${tr('cancelShow')}</h2>
    <p>${tr('confirmCancelShow')}</p>
    <label for="cancel-reason">${tr('cancelReason')}</label>
    <input id="cancel-reason" name="reason" data-testid="cancel-reason" maxlength="500" />
    <div class="actions">
      <button type="button" class="secondary" @click=${() => actions.askCancelShow(false)}>
        ${tr('keep')}
      </button>
      <button
        type="submit"
        class="danger"
        data-testid="confirm-cancel-show"
        ?disabled=${state.busy}
      >
        ${tr('confirm')}
      </button>
    </div>
  </form>`;
}
