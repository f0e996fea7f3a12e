import { html, nothing, type TemplateResult } from 'lit-html';
import type { Room, RoomPatch } from './api.js';
import type { OpKey } from './i18n.js';
import type { OpState } from './state.js';
import { formValues, type OpActions, type OpTr } from './views.js';

type RoomState = Room['state'];

const stateKey: Record<RoomState, OpKey> = {
  open: 'roomOpen',
  paused: 'roomPaused',
  'queue-all': 'roomQueueAll',
  closed: 'roomClosed',
};

/** A whole number as a number; anything else as typed, for the server to refuse in its words. */
const wholeOr = (value: string): number | string =>
  /^[0-9]+$/.test(value) ? Number(value) : value;

/**
 * What the settings form changes: only the fields that differ from the room as last read (so
 * `powDifficulty` is sent only when the operator changed it).
 */
export function roomChanges(room: Room, read: (name: string) => string): RoomPatch {
  const body: Record<string, unknown> = {};
  const maxActive = read('maxActive');
  if (maxActive !== String(room.maxActive)) body.maxActive = wholeOr(maxActive);
  const rate = read('admissionPerMinute');
  if (rate !== String(room.admissionPerMinute ?? ''))
    body.admissionPerMinute = rate === '' ? null : wholeOr(rate);
  const pow = read('powDifficulty');
  if (pow !== String(room.powDifficulty)) body.powDifficulty = wholeOr(pow);
  return body;
}

/** The sale's room controls on the dashboard: its state, the four moves and its settings. */
export function roomControls(state: OpState, actions: OpActions, tr: OpTr): TemplateResult {
  const concertId = state.concertId;
  const room = state.room;
  if (concertId === undefined || room === undefined) return html``;
  if (room === null)
    return html`<div class="room" data-testid="room-controls">
      <h3>${tr('roomControls')}</h3>
      <p class="hint" data-testid="room-none">${tr('noRoom')}</p>
      <button
        type="button"
        class="secondary"
        data-testid="room-create"
        ?disabled=${state.busy}
        @click=${() => void actions.createRoom(concertId)}
      >
        ${tr('createRoom')}
      </button>
    </div>`;
  const move = (target: RoomState, testid: string, label: OpKey) =>
    html`<button
      type="button"
      class=${target === 'closed' ? 'danger' : 'secondary'}
      data-testid=${testid}
      ?disabled=${state.busy || room.state === target}
      @click=${() => void actions.updateRoom(concertId, { state: target })}
    >
      ${tr(label)}
    </button>`;
  const submit = (event: Event) => {
    const body = roomChanges(room, formValues(event));
    if (Object.keys(body).length > 0) void actions.updateRoom(concertId, body);
  };
  const pow = room.powDifficulty;
  return html`<div class="room" data-testid="room-controls">
    <h3>${tr('roomControls')}</h3>
    <p aria-live="polite">
      ${tr('roomState')}:
      <strong data-testid=${`room-state-${concertId}`} data-state=${room.state}
        >${tr(stateKey[room.state])}</strong
      >
    </p>
    <div class="actions" role="group" aria-label=${tr('roomControls')}>
      ${move('paused', 'room-pause', 'pause')} ${move('open', 'room-resume', 'resume')}
      ${move('queue-all', 'room-queue-all', 'queueAll')} ${move('closed', 'room-close', 'close')}
    </div>
    <form class="room-settings" @submit=${submit}>
      <label for="room-max-active">${tr('activeCap')}</label>
      <input
        id="room-max-active"
        name="maxActive"
        data-testid="room-max-active"
        inputmode="numeric"
        required
        value=${String(room.maxActive)}
      />
      <label for="room-admission-rate">${tr('admissionCap')}</label>
      <input
        id="room-admission-rate"
        name="admissionPerMinute"
        data-testid="room-admission-rate"
        inputmode="numeric"
        aria-describedby="room-admission-hint"
        value=${room.admissionPerMinute === null ? '' : String(room.admissionPerMinute)}
      />
      <p class="hint" id="room-admission-hint">${tr('admissionCapHint')}</p>
      <label for="room-pow-difficulty">${tr('powDifficulty')}</label>
      <input
        id="room-pow-difficulty"
        name="powDifficulty"
        data-testid="room-pow-difficulty"
        inputmode="numeric"
        aria-describedby="room-pow-hint"
        value=${String(pow)}
      />
      <p class="hint" id="room-pow-hint">${tr('powHint')}</p>
      <button type="submit" data-testid="room-save" ?disabled=${state.busy}>
        ${tr('saveRoom')}
      </button>
    </form>
    ${
      state.roomView
        ? html`<p class="hint" data-testid="room-seats-left">
            ${tr('seatsLeft')}: ${state.roomView.seatsLeft.toLocaleString()}
          </p>`
        : nothing
    }
  </div>`;
}
