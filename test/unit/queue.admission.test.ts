import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { AdmissionResult, TokenView } from '../../src/modules/queue/queue.store.js';
import { createAdmission } from '../../src/modules/queue/queue.admission.js';

const waitingAt = (position: number): TokenView => ({
  token: `t${position}`,
  userId: position,
  roomId: 0,
  status: 'WAITING',
  position,
  expiresAt: null,
});

/** An admission worker whose runs report the given results, one per run. */
function admissionReporting(...results: AdmissionResult[]) {
  const pending = [...results];
  return createAdmission(
    {
      admit: () =>
        Promise.resolve(pending.shift() ?? { expired: 0, admitted: 0, active: 0, waiting: 0 }),
    },
    { maxActive: 50, intervalMs: 60_000, logger: pino({ level: 'silent' }) },
  );
}

/**
 * Proves the join-side check behind "a token with room leaves its join ACTIVE": it never sends a
 * token with room to wait for the next tick, whatever run finishes between the join's read and
 * the check. (The race it closes: 30 joins are read as WAITING 1–30, a second batch as 31–60;
 * a run admits the first 30 and finishes before the second batch checks — judged by that run,
 * 30 active + position 31 looks full, and nobody would have run admission for the second batch.)
 */
describe('admission worker: may a fresh join be admitted at once?', () => {
  it('asks for a run before any run has reported', () => {
    expect(admissionReporting().beforeJoin()(waitingAt(40))).toBe(true);
  });

  it('judges by the last run that finished before the read, not one that finished after it', async () => {
    const admission = admissionReporting(
      { expired: 0, admitted: 0, active: 0, waiting: 30 },
      { expired: 0, admitted: 30, active: 30, waiting: 30 },
    );
    await admission.admitNow();
    const checkSecondBatch = admission.beforeJoin();
    await admission.admitNow(); // admits the first 30 between the read and the check
    expect(checkSecondBatch(waitingAt(31))).toBe(true);
    expect(checkSecondBatch(waitingAt(50))).toBe(true);
    expect(checkSecondBatch(waitingAt(51))).toBe(false);
    // A join read after that run sees the 30 as active: position 21 is the 51st.
    expect(admission.beforeJoin()(waitingAt(20))).toBe(true);
    expect(admission.beforeJoin()(waitingAt(21))).toBe(false);
  });

  it('always asks for the head of the line, never for ACTIVE or EXPIRED tokens', async () => {
    const admission = admissionReporting({ expired: 0, admitted: 50, active: 50, waiting: 9 });
    await admission.admitNow();
    const check = admission.beforeJoin();
    expect(check(waitingAt(1))).toBe(true);
    expect(check(waitingAt(2))).toBe(false);
    expect(check({ ...waitingAt(0), status: 'ACTIVE' })).toBe(false);
    expect(check({ ...waitingAt(0), status: 'EXPIRED' })).toBe(false);
  });
});
