import { html, type TemplateResult } from 'lit-html';
import type { Concert, ConcertInput, ConcertPatch } from './api.js';
import { fromLocalInput, localInput, type OpState } from './state.js';
import { formValues, type OpActions, type OpTr } from './views.js';

type Field = (name: string) => string;

/** A number field: '' stays undefined (the server's default), anything else is sent as typed. */
const numberOf = (value: string): number | undefined => (value === '' ? undefined : Number(value));

/** The concert as the form says it; empty optional fields are left out (the defaults apply). */
function concertOf(field: Field, categories: number): ConcertInput {
  const body: ConcertInput = {
    title: field('title'),
    venueId: Number(field('venueId')),
    showAt: fromLocalInput(field('showAt')) ?? '',
    description: field('description'),
    priceCategories: Array.from({ length: categories }, (_, index) => ({
      name: field(`category-name-${index}`),
      price: Number(field(`category-price-${index}`)),
      sections: field(`category-sections-${index}`)
        .split(',')
        .map((name) => name.trim())
        .filter((name) => name !== ''),
    })),
  };
  const optional = {
    saleOpensAt: fromLocalInput(field('saleOpensAt')),
    saleClosesAt: fromLocalInput(field('saleClosesAt')),
    ticketLimit: numberOf(field('ticketLimit')),
    holdSeconds: numberOf(field('holdSeconds')),
    refundCutoffHours: numberOf(field('refundCutoffHours')),
    refundFeePercent: numberOf(field('refundFeePercent')),
  };
  for (const [name, value] of Object.entries(optional))
    if (value !== undefined) Object.assign(body, { [name]: value });
  return body;
}

const when = (lang: string, iso: string | null): string =>
  iso === null
    ? '—'
    : new Date(iso).toLocaleString(lang === 'ko' ? 'ko-KR' : 'en-US', {
        dateStyle: 'medium',
        timeStyle: 'short',
      });

export function concertsView(state: OpState, actions: OpActions, tr: OpTr): TemplateResult {
  const form = state.concertForm;
  return html`
    <h1 tabindex="-1">${tr('concerts')}</h1>
    ${
      form === undefined
        ? html`<button
            type="button"
            data-testid="new-concert"
            @click=${() => actions.concertForm({ mode: 'new', categories: 1 })}
          >
            ${tr('newConcert')}
          </button>`
        : concertForm(state, form, actions, tr)
    }
    <ul class="list">
      ${state.concerts.map(
        (concert) => html`
          <li class="card" data-testid=${`concert-${concert.concertId}`}>
            <h2>${concert.title}</h2>
            <p class="hint">
              #${concert.concertId} · ${concert.venueName} ·
              <time datetime=${concert.showAt}>${when(state.lang, concert.showAt)}</time> ·
              ${concert.seatCount.toLocaleString()} ${tr('seats')}
            </p>
            <p class="hint">
              ${tr('saleOpensAt')}: ${when(state.lang, concert.saleOpensAt)}
              ${concert.priceCategories.length > 0 ? ' · ' : ''}${concert.priceCategories.map((category) => `${category.name} ${category.price.toLocaleString()}`).join(' · ')}
            </p>
            <div class="actions">
              <button
                type="button"
                data-testid=${`dashboard-${concert.concertId}`}
                aria-label=${`${tr('dashboard')}: ${concert.title}`}
                @click=${() => void actions.dashboard(concert.concertId)}
              >
                ${tr('dashboard')}
              </button>
              <button
                type="button"
                class="secondary"
                data-testid=${`edit-concert-${concert.concertId}`}
                aria-label=${`${tr('edit')}: ${concert.title}`}
                @click=${() =>
                  actions.concertForm({
                    mode: 'edit',
                    concert,
                    categories: concert.priceCategories.length,
                  })}
              >
                ${tr('edit')}
              </button>
            </div>
          </li>
        `,
      )}
    </ul>
  `;
}

function concertForm(
  state: OpState,
  form: NonNullable<OpState['concertForm']>,
  actions: OpActions,
  tr: OpTr,
): TemplateResult {
  const concert: Concert | undefined = form.mode === 'edit' ? form.concert : undefined;
  const submit = (event: Event) => {
    const body = concertOf(formValues(event), form.categories);
    if (concert) void actions.updateConcert(concert.concertId, changed(concert, body));
    else void actions.createConcert(body);
  };
  const input = (name: string, label: string, value: string, type = 'text', required = false) =>
    html`<label for=${`concert-${name}`}>${label}</label>
      <input
        id=${`concert-${name}`}
        name=${name}
        type=${type}
        data-testid=${`concert-${name}`}
        .value=${value}
        ?required=${required}
        inputmode=${type === 'number' ? 'numeric' : 'text'}
      />`;
  const categories = Array.from({ length: form.categories }, (_, index) => {
    const category = concert?.priceCategories[index];
    return html`<fieldset class="group">
      <legend>${tr('category')} ${index + 1}</legend>
      ${input(`category-name-${index}`, tr('name'), category?.name ?? '', 'text', true)}
      ${input(`category-price-${index}`, tr('price'), String(category?.price ?? ''), 'number', true)}
      ${input(`category-sections-${index}`, tr('categorySections'), category?.sections.join(', ') ?? '', 'text', true)}
    </fieldset>`;
  });
  return html`
    <form class="card" data-testid="concert-form" @submit=${submit}>
      <h2>${concert ? `${tr('edit')}: ${concert.title}` : tr('newConcert')}</h2>
      ${input('title', tr('title'), concert?.title ?? '', 'text', true)}
      <label for="concert-venueId">${tr('venue')}</label>
      <select id="concert-venueId" name="venueId" data-testid="concert-venue" required>
        ${state.venues.map(
          (venue) =>
            html`<option value=${venue.venueId} ?selected=${venue.venueId === concert?.venueId}>
              ${venue.name} (${venue.sections.map((section) => section.name).join(', ')})
            </option>`,
        )}
      </select>
      ${input('showAt', tr('showAt'), localInput(concert?.showAt), 'datetime-local', true)}
      <label for="concert-description">${tr('description')}</label>
      <textarea
        id="concert-description"
        name="description"
        rows="2"
        .value=${concert?.description ?? ''}
      ></textarea>
      <h3>${tr('categories')}</h3>
      ${categories}
      <button
        type="button"
        class="secondary"
        data-testid="add-category"
        @click=${() => actions.concertForm({ ...form, categories: form.categories + 1 })}
      >
        ${tr('addCategory')}
      </button>
      <h3>${tr('saleSettings')}</h3>
      <div class="grid">
        <div>
          ${input('saleOpensAt', tr('saleOpensAt'), localInput(concert?.saleOpensAt), 'datetime-local')}
        </div>
        <div>
          ${input('saleClosesAt', tr('saleClosesAt'), localInput(concert?.saleClosesAt), 'datetime-local')}
        </div>
        <div>
          ${input('ticketLimit', tr('ticketLimit'), String(concert?.ticketLimit ?? ''), 'number')}
        </div>
        <div>
          ${input('holdSeconds', tr('holdSeconds'), String(concert?.holdSeconds ?? ''), 'number')}
        </div>
        <div>
          ${input('refundCutoffHours', tr('refundCutoffHours'), String(concert?.refundCutoffHours ?? ''), 'number')}
        </div>
        <div>
          ${input('refundFeePercent', tr('refundFeePercent'), String(concert?.refundFeePercent ?? ''), 'number')}
        </div>
      </div>
      <div class="actions">
        <button type="button" class="secondary" @click=${() => actions.concertForm(undefined)}>
          ${tr('closeForm')}
        </button>
        <button type="submit" data-testid="save-concert" ?disabled=${state.busy}>
          ${concert ? tr('save') : tr('create')}
        </button>
      </div>
    </form>
  `;
}

/**
 * Only what the form changed: the venue and prices may not change once seats are held or sold
 * (CONCERT_HAS_SALES), so an edit of the title alone must not send them again.
 */
function changed(concert: Concert, body: ConcertInput): ConcertPatch {
  const patch: ConcertPatch = {};
  const before = concert as unknown as Record<string, unknown>;
  for (const [name, value] of Object.entries(body)) {
    const old = before[name];
    const same =
      name.endsWith('At') && typeof old === 'string' && typeof value === 'string'
        ? localInput(old) === localInput(value)
        : JSON.stringify(old) === JSON.stringify(value);
    if (!same) Object.assign(patch, { [name]: value });
  }
  return patch;
}
