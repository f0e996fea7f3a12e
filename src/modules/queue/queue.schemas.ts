import { Type } from 'typebox';
import { isoTime } from '../../shared/http.js';

const tokenStatus = Type.Enum(['WAITING', 'ACTIVE', 'EXPIRED'], {
  description:
    'WAITING in line → ACTIVE (may shop) → EXPIRED (time ran out, paid, or left; queue again).',
});

export const tokenStatusSchema = Type.Object({
  status: tokenStatus,
  position: Type.Integer({
    minimum: 0,
    description: '0 when ACTIVE or EXPIRED; the exact 1-based place in line when WAITING.',
  }),
  expiresAt: Type.Union([
    isoTime('ACTIVE: when the token ends. WAITING: poll before this or lose the place.'),
    Type.Null(),
  ]),
});

export const tokenSchema = Type.Object({
  token: Type.String({ description: 'Send it as the Queue-Token header.' }),
  ...tokenStatusSchema.properties,
});

export const tokenExample = {
  token: 'q8Vd3J0vW2c7cX1mQ0yZ6n4HkLr9Tt5A',
  status: 'WAITING',
  position: 12,
  expiresAt: '2026-12-08T10:30:00.000Z',
};

export const liveStatusSchema = Type.Object({
  ...tokenStatusSchema.properties,
  estimatedWaitSeconds: Type.Union(
    [
      Type.Integer({
        minimum: 0,
        description:
          'WAITING: the expected wait at the admission rate measured over the last ADMISSION_RATE_WINDOW_SECONDS (a minute by default), rounded up; ACTIVE: 0.',
      }),
      Type.Null(),
    ],
    { description: 'null when EXPIRED, or while nobody was admitted lately.' },
  ),
});

export const liveStatusExample = {
  status: 'WAITING',
  position: 12,
  expiresAt: tokenExample.expiresAt,
  estimatedWaitSeconds: 45,
};
