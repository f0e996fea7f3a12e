import { html, nothing, type TemplateResult } from 'lit-html';
import type { Venue, VenueInput } from './api.js';
import type { OpState } from './state.js';
import { formValues, type OpActions, type OpTr } from './views.js';

type Kind = 'seated' | 'general-admission';
type SectionInput = VenueInput['sections'][number];

/** A row per line: its name and seat count ("A 20"); a bad line is left for the server to refuse. */
function rowsOf(text: string): { name: string; seats: number }[] {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '')
    .map((line) => {
      const match = /^(.*\S)\s+(\d+)$/.exec(line);
      return match ? { name: match[1] ?? '', seats: Number(match[2]) } : { name: line, seats: 0 };
    });
}

/** The compact seat map from the form: rows with a seat count, or a capacity. */
function sectionsOf(field: (name: string) => string, kinds: Kind[]): SectionInput[] {
  return kinds.map((kind, index) => {
    const name = field(`section-name-${index}`);
    if (kind === 'general-admission')
      return { name, kind, capacity: Number(field(`section-capacity-${index}`)) };
    return { name, kind, rows: rowsOf(field(`section-rows-${index}`)) };
  });
}

export function venuesView(state: OpState, actions: OpActions, tr: OpTr): TemplateResult {
  const form = state.venueForm;
  return html`
    <h1 tabindex="-1">${tr('venues')}</h1>
    ${
      form === undefined
        ? html`<button
            type="button"
            data-testid="new-venue"
            @click=${() => actions.venueForm({ mode: 'new', kinds: ['seated'] })}
          >
            ${tr('newVenue')}
          </button>`
        : form.mode === 'new'
          ? newVenueForm(form.kinds, state.busy, actions, tr)
          : editVenueForm(form.venue, state.busy, actions, tr)
    }
    <ul class="list">
      ${state.venues.map(
        (venue) => html`
          <li class="card" data-testid=${`venue-${venue.venueId}`}>
            <h2>${venue.name}</h2>
            <p class="hint">
              ${venue.address} · ${venue.capacity.toLocaleString()} ${tr('places')} ·
              ${venue.sections.length} ${tr('sections').toLowerCase()}
              ${venue.inUse ? `· ${tr('inUse')}` : ''}
            </p>
            <div class="actions">
              <button
                type="button"
                class="secondary"
                data-testid=${`preview-${venue.venueId}`}
                aria-label=${`${tr('preview')}: ${venue.name}`}
                @click=${() => void actions.preview(venue.venueId)}
              >
                ${tr('preview')}
              </button>
              <button
                type="button"
                class="secondary"
                data-testid=${`edit-venue-${venue.venueId}`}
                aria-label=${`${tr('edit')}: ${venue.name}`}
                @click=${() => actions.venueForm({ mode: 'edit', venue })}
              >
                ${tr('edit')}
              </button>
            </div>
            ${state.venue?.venueId === venue.venueId ? preview(state, actions, tr) : nothing}
          </li>
        `,
      )}
    </ul>
  `;
}

/** Sections with their counts; a section's rows on demand (never a big venue's every seat). */
function preview(state: OpState, actions: OpActions, tr: OpTr): TemplateResult {
  const venue = state.venue;
  if (!venue) return html``;
  const open = state.section;
  return html`
    <table class="table" data-testid="venue-preview">
      <caption>
        ${tr('preview')}: ${venue.name}
      </caption>
      <thead>
        <tr>
          <th scope="col">${tr('section')}</th>
          <th scope="col">${tr('kind')}</th>
          <th scope="col">${tr('rows')}</th>
          <th scope="col">${tr('capacity')}</th>
        </tr>
      </thead>
      <tbody>
        ${venue.sections.map(
          (section) =>
            html`<tr data-testid=${`preview-section-${section.key}`}>
              <th scope="row">
                ${
                  section.kind === 'seated'
                    ? html`<button
                        type="button"
                        class="link"
                        aria-expanded=${open?.key === section.key ? 'true' : 'false'}
                        @click=${() => void actions.openSection(venue.venueId, section.key)}
                      >
                        ${section.name}
                      </button>`
                    : section.name
                }
              </th>
              <td>${section.kind === 'seated' ? tr('seated') : tr('standing')}</td>
              <td>${section.rowCount}</td>
              <td>${section.capacity.toLocaleString()}</td>
            </tr>`,
        )}
      </tbody>
    </table>
    ${
      open && open.venueId === venue.venueId
        ? html`<ul class="rows" data-testid="section-rows" aria-label=${open.name}>
            ${open.rows.map(
              (row) =>
                html`<li>
                  <strong>${row.name}</strong> · ${row.seats.length} ${tr('seats')}
                  <span class="hint"
                    >(${row.seats[0]?.label ?? ''}…${row.seats.at(-1)?.label ?? ''})</span
                  >
                </li>`,
            )}
          </ul>`
        : nothing
    }
  `;
}

function newVenueForm(kinds: Kind[], busy: boolean, actions: OpActions, tr: OpTr): TemplateResult {
  const submit = (event: Event) => {
    const field = formValues(event);
    void actions.createVenue({
      name: field('name'),
      address: field('address'),
      sections: sectionsOf(field, kinds),
    });
  };
  const setKind = (index: number, kind: Kind) =>
    actions.venueForm({ mode: 'new', kinds: kinds.map((old, at) => (at === index ? kind : old)) });
  return html`
    <form class="card" data-testid="venue-form" @submit=${submit}>
      <h2>${tr('newVenue')}</h2>
      <label for="venue-name">${tr('name')}</label>
      <input id="venue-name" name="name" data-testid="venue-name" required />
      <label for="venue-address">${tr('address')}</label>
      <input id="venue-address" name="address" data-testid="venue-address" required />
      ${kinds.map(
        (kind, index) => html`
          <fieldset class="group">
            <legend>${tr('section')} ${index + 1}</legend>
            <label for=${`section-name-${index}`}>${tr('name')}</label>
            <input
              id=${`section-name-${index}`}
              name=${`section-name-${index}`}
              data-testid=${`section-name-${index}`}
              required
            />
            <label for=${`section-kind-${index}`}>${tr('kind')}</label>
            <select
              id=${`section-kind-${index}`}
              data-testid=${`section-kind-${index}`}
              @change=${(event: Event) =>
                setKind(index, (event.target as HTMLSelectElement).value as Kind)}
            >
              <option value="seated" ?selected=${kind === 'seated'}>${tr('seated')}</option>
              <option value="general-admission" ?selected=${kind !== 'seated'}>
                ${tr('standing')}
              </option>
            </select>
            ${
              kind === 'seated'
                ? html`<label for=${`section-rows-${index}`}>${tr('rows')}</label>
                    <textarea
                      id=${`section-rows-${index}`}
                      name=${`section-rows-${index}`}
                      data-testid=${`section-rows-${index}`}
                      rows="3"
                      aria-describedby=${`rows-hint-${index}`}
                      required
                    ></textarea>
                    <p class="hint" id=${`rows-hint-${index}`}>${tr('rowsHint')}</p>`
                : html`<label for=${`section-capacity-${index}`}>${tr('capacity')}</label>
                    <input
                      id=${`section-capacity-${index}`}
                      name=${`section-capacity-${index}`}
                      data-testid=${`section-capacity-${index}`}
                      inputmode="numeric"
                      required
                    />`
            }
            ${
              kinds.length > 1
                ? html`<button
                    type="button"
                    class="secondary"
                    @click=${() =>
                      actions.venueForm({
                        mode: 'new',
                        kinds: kinds.filter((_, at) => at !== index),
                      })}
                  >
                    ${tr('remove')}
                  </button>`
                : nothing
            }
          </fieldset>
        `,
      )}
      <div class="actions">
        <button
          type="button"
          class="secondary"
          data-testid="add-section"
          @click=${() => actions.venueForm({ mode: 'new', kinds: [...kinds, 'seated'] })}
        >
          ${tr('addSection')}
        </button>
        <button type="submit" data-testid="create-venue" ?disabled=${busy}>${tr('create')}</button>
      </div>
    </form>
  `;
}

function editVenueForm(venue: Venue, busy: boolean, actions: OpActions, tr: OpTr) {
  const submit = (event: Event) => {
    const field = formValues(event);
    void actions.updateVenue(venue.venueId, { name: field('name'), address: field('address') });
  };
  return html`
    <form class="card" data-testid="venue-form" @submit=${submit}>
      <h2>${tr('edit')}: ${venue.name}</h2>
      <label for="venue-name">${tr('name')}</label>
      <input id="venue-name" name="name" data-testid="venue-name" .value=${venue.name} required />
      <label for="venue-address">${tr('address')}</label>
      <input
        id="venue-address"
        name="address"
        data-testid="venue-address"
        .value=${venue.address}
        required
      />
      <div class="actions">
        <button type="button" class="secondary" @click=${() => actions.venueForm(undefined)}>
          ${tr('closeForm')}
        </button>
        <button type="submit" data-testid="save-venue" ?disabled=${busy}>${tr('save')}</button>
      </div>
    </form>
  `;
}
