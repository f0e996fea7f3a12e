import { html, nothing, type TemplateResult } from 'lit-html';
import type { DrawCheck } from './draw.js';
import type { State } from './state.js';
import type { Actions, Tr } from './views.js';

const fill = (text: string, values: Record<string, number>): string =>
  text.replace(/\{(\w+)\}/g, (_, name: string) => (values[name] ?? 0).toLocaleString());

/** How the place the page was told compares with the draw's: the `data-match` of the result. */
function match(check: Extract<DrawCheck, { kind: 'verified' }>): string {
  if (check.told === undefined) return 'unknown';
  if (check.told === check.place) return 'yes';
  return check.told < check.place ? 'ahead' : 'behind';
}

function result(check: DrawCheck, tr: Tr): TemplateResult {
  const line = (key: Parameters<Tr>[0], values: Record<string, number> = {}, extra = '') =>
    html`<p>${fill(tr(key), values)}${extra}</p>`;
  switch (check.kind) {
    case 'not-drawn':
      return html`${line('drawNotYet')}<code class="hash">${check.commitment ?? '—'}</code>`;
    case 'no-crypto':
      return line('drawNoCrypto');
    case 'changed':
      return line('drawChanged');
    case 'bad-seed':
      return line('drawBadSeed');
    case 'bad-order':
      return line('drawBadOrder', { place: check.at });
    case 'missing':
      return line('drawMissing', { total: check.total });
    case 'verified': {
      const told = { told: check.told ?? 0 };
      const verdict = match(check);
      const words = { yes: 'drawMatch', ahead: 'drawAhead', behind: 'drawBehind' } as const;
      return html`${line('drawVerified', { place: check.place, total: check.total })}
      ${line(verdict === 'unknown' ? 'drawUntold' : words[verdict as keyof typeof words], told)}`;
    }
  }
}

/**
 * "Check the draw", in the waiting room of a room with an opening: the lottery checked in the
 * browser with WebCrypto (draw.ts), the buyer's place and whether it fits what the page was told.
 */
export function drawView(state: State, actions: Actions, tr: Tr): TemplateResult | typeof nothing {
  if (!state.queue?.receiptId) return nothing;
  const check = state.draw;
  const done = check !== undefined && check !== 'checking';
  const bad = done && !['verified', 'not-drawn', 'no-crypto'].includes(check.kind);
  return html`<section class="card draw" aria-labelledby="draw-title">
    <h2 id="draw-title">${tr('drawTitle')}</h2>
    <button
      type="button"
      class="secondary"
      data-testid="draw-check"
      ?disabled=${check === 'checking'}
      @click=${() => void actions.checkDraw()}
    >
      ${tr('drawCheck')}
    </button>
    <div
      role="status"
      class=${bad ? 'banner error' : done ? 'banner notice' : ''}
      data-testid="draw-result"
      data-verdict=${done ? check.kind : (check ?? '')}
      data-place=${done && check.kind === 'verified' ? check.place : nothing}
      data-match=${done && check.kind === 'verified' ? match(check) : nothing}
    >
      ${check === 'checking' ? html`<p>${tr('drawChecking')}</p>` : done ? result(check, tr) : nothing}
    </div>
  </section>`;
}
