import { html, type TemplateResult } from 'lit-html';
import type { Api, Identity, QueueState } from './api.js';
import { checkDraw, type DrawCheck } from './draw.js';
import { drawNotes } from './draw-notes.js';
import type { Lang } from './i18n.js';
import { drawMatch } from './views-draw.js';

/**
 * "Check the draw", loaded when a buyer asks (a dynamic import): the WebCrypto check (draw.ts)
 * and its outcome in words stay out of the page every buyer loads.
 */

const en = {
  drawNotYet: 'Not drawn yet. This commitment fixes the draw in advance; the page noted it:',
  drawNoCrypto:
    'The draw cannot be checked on this address: browsers allow WebCrypto only over HTTPS.',
  drawChanged:
    'The commitment is not the one this page noted before the opening: do not trust this draw.',
  drawBadSeed: 'The published seed does not match its commitment: do not trust this draw.',
  drawBadOrder: 'The published order is not the draw’s order (from place {place}).',
  drawMissing: 'Your receipt is not in the draw ({total} drawn). Keep your receipt as evidence.',
  drawVerified:
    'Checked in your browser: the seed matches its commitment and the order is the draw’s. Your place in the draw: {place} of {total}.',
  drawMatch: 'It matches the place in line this page was told at the opening ({told}).',
  drawAhead:
    'This page was told place {told}: people ahead of you had already been let in. That fits.',
  drawBehind: 'This page was told place {told}, behind your place in the draw.',
  drawUntold: 'This page was told no place in line after the opening to compare with.',
};

const ko: typeof en = {
  drawNotYet: '아직 추첨 전입니다. 추첨은 이 약속값으로 미리 정해지며, 페이지가 기록해 두었습니다:',
  drawNoCrypto:
    '이 주소에서는 추첨을 확인할 수 없습니다. 브라우저는 HTTPS에서만 WebCrypto를 허용합니다.',
  drawChanged: '오픈 전에 이 페이지가 기록한 약속값과 다릅니다. 이 추첨은 믿을 수 없습니다.',
  drawBadSeed: '공개된 시드가 약속값과 맞지 않습니다. 이 추첨은 믿을 수 없습니다.',
  drawBadOrder: '공개된 순서가 추첨 순서와 다릅니다({place}번째부터).',
  drawMissing: '내 접수 번호가 추첨에 없습니다(추첨 {total}건). 접수 번호를 증거로 보관하세요.',
  drawVerified:
    '브라우저에서 확인했습니다. 시드가 약속값과 맞고 순서가 추첨 순서와 같습니다. 내 추첨 순번: {total}명 중 {place}번.',
  drawMatch: '오픈 때 이 페이지가 안내받은 대기 순번({told}번)과 같습니다.',
  drawAhead:
    '이 페이지가 안내받은 순번은 {told}번입니다. 앞 순번이 이미 입장해 당겨진 것으로, 맞습니다.',
  drawBehind: '이 페이지가 안내받은 순번은 {told}번으로, 추첨 순번보다 뒤입니다.',
  drawUntold: '오픈 후 안내받은 대기 순번이 없어 비교할 수 없습니다.',
};

type Key = keyof typeof en;

const fill = (text: string, values: Record<string, number>): string =>
  text.replace(/\{(\w+)\}/g, (_, name: string) => (values[name] ?? 0).toLocaleString());

/** The outcome of a check in words (the result's attributes are set by views-draw.ts). */
export function drawResult(check: DrawCheck, lang: Lang): TemplateResult {
  const words = lang === 'ko' ? ko : en;
  const line = (key: Key, values: Record<string, number> = {}) =>
    html`<p>${fill(words[key], values)}</p>`;
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
      const verdict = drawMatch(check);
      const told = { told: check.told ?? 0 };
      const key = (
        {
          yes: 'drawMatch',
          ahead: 'drawAhead',
          behind: 'drawBehind',
          unknown: 'drawUntold',
        } as const
      )[verdict];
      return html`${line('drawVerified', { place: check.place, total: check.total })}${line(key, told)}`;
    }
  }
}

/** "Check the draw" for the room the buyer waits in; `show` gets 'checking', then the outcome. */
export async function checkRoomDraw(
  api: Api,
  identity: Identity,
  queue: Pick<QueueState, 'concertId' | 'receiptId'> | undefined,
  show: (draw: DrawCheck | 'checking' | undefined) => void,
): Promise<void> {
  const room = queue?.concertId;
  const receipt = queue?.receiptId;
  if (room === null || room === undefined || !receipt) return;
  show('checking');
  const { commitment, told } = drawNotes(identity, room);
  // A refusal on the way is shown as one (the caller's), and the control is offered again.
  const check = await checkDraw((n) => api.draw(room, n), receipt, commitment, told).finally(() =>
    show(undefined),
  );
  show(check);
  // On a phone the result opens below the fold: brought into view.
  document.querySelector('[data-testid="draw-result"]')?.scrollIntoView({ block: 'nearest' });
}
