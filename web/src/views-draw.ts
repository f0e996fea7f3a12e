import { html, nothing, type TemplateResult } from 'lit-html';
import type { DrawCheck } from './draw.js';
import type { Lang } from './i18n.js';
import type { State } from './state.js';
import type { Actions, Tr } from './views.js';

/** The outcome in words: draw-check.ts, loaded with the first check (registered by main.ts). */
let resultView: ((check: DrawCheck, lang: Lang) => TemplateResult) | undefined;
export const useDrawResult = (view: typeof resultView): void => {
  resultView = view;
};

/** How the place the page was told compares with the draw's: the `data-match` of the result. */
export function drawMatch(
  check: Extract<DrawCheck, { kind: 'verified' }>,
): 'yes' | 'ahead' | 'behind' | 'unknown' {
  if (check.told === undefined) return 'unknown';
  if (check.told === check.place) return 'yes';
  return check.told < check.place ? 'ahead' : 'behind';
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
  const verified = done && check.kind === 'verified' ? check : undefined;
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
      data-place=${verified ? verified.place : nothing}
      data-match=${verified ? drawMatch(verified) : nothing}
    >
      ${check === 'checking' ? html`<p>${tr('drawChecking')}</p>` : nothing}
      ${done && resultView ? resultView(check, state.lang) : nothing}
    </div>
  </section>`;
}
