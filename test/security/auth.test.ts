import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, exportPKCS8, exportSPKI, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { mintToken } from '../../src/modules/auth/mint.js';
import { describeWithPostgres } from '../support/db.js';
import { createConcert, setBalance } from '../support/fixtures.js';
import { startTestServer } from '../support/server.js';
import { useTestDatabase, useTestServer } from '../support/suite.js';

const SECRET = 'a-test-secret-of-at-least-32-characters!';
const hs256 = {
  JWT_ALGORITHM: 'HS256' as const,
  JWT_SECRET: SECRET,
  JWT_ISSUER: '',
  JWT_AUDIENCE: '',
};
const bearer = (jwt: string) => ({ authorization: `Bearer ${jwt}` });

describe('AUTH_MODE start-up rules', () => {
  it('bounds JWT lifetimes to a day with a 30 s clock tolerance by default', () => {
    expect(loadConfig({})).toMatchObject({
      JWT_MAX_AGE_SECONDS: 86_400,
      JWT_CLOCK_TOLERANCE_SECONDS: 30,
    });
    expect(() => loadConfig({ JWT_MAX_AGE_SECONDS: '0' })).toThrow(/JWT_MAX_AGE_SECONDS/);
    expect(() => loadConfig({ JWT_CLOCK_TOLERANCE_SECONDS: '-1' })).toThrow(
      /JWT_CLOCK_TOLERANCE_SECONDS/,
    );
  });

  it('refuses client-id identity in production unless explicitly allowed', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/ALLOW_CLIENT_ID_AUTH/);
    const database = { DATABASE_URL: 'postgres://db-host/overture' };
    expect(
      loadConfig({ NODE_ENV: 'production', ALLOW_CLIENT_ID_AUTH: 'true', ...database }).AUTH_MODE,
    ).toBe('client-id');
    expect(
      loadConfig({ NODE_ENV: 'production', AUTH_MODE: 'jwt', JWT_SECRET: SECRET, ...database })
        .AUTH_MODE,
    ).toBe('jwt');
  });

  it('refuses jwt mode without a key, and a short secret', () => {
    expect(() => loadConfig({ AUTH_MODE: 'jwt' })).toThrow(/JWT_SECRET/);
    expect(() => loadConfig({ AUTH_MODE: 'jwt', JWT_ALGORITHM: 'RS256' })).toThrow(
      /JWT_PUBLIC_KEY_FILE/,
    );
    expect(() => loadConfig({ JWT_SECRET: 'short' })).toThrow(/32 characters/);
  });
});

describeWithPostgres('AUTH_MODE=jwt', () => {
  const { db, server } = useTestServer({ AUTH_MODE: 'jwt', JWT_SECRET: SECRET, MAX_ACTIVE: '100' });

  const jwtFor = (userId: number, admin = false) => mintToken(hs256, { userId, admin });

  it('lets a request act only for the user its JWT proves', async () => {
    const { client } = server;
    const concert = await createConcert(db.pool, { seats: 2, price: 1_000 });
    const alice = bearer(await jwtFor(11));
    const joined = await client.call<{ token: string; status: string }>(
      'POST',
      '/api/v1/queue/token',
      { headers: alice },
    );
    expect([joined.status, joined.data.status]).toEqual([201, 'ACTIVE']);
    const token = { 'queue-token': joined.data.token };
    await setBalance(db.pool, 11, 5_000);
    const hold = await client.call(
      'POST',
      `/api/v1/reservations/concerts/${concert.concertId}/seats/hold`,
      {
        headers: { ...alice, ...token },
        body: {
          seatHoldUuid: crypto.randomUUID(),
          concertId: concert.concertId,
          seatId: concert.seatIds[0],
        },
      },
    );
    expect(hold.status).toBe(201);

    // Bob holds Alice's queue token but proves he is Bob: refused on every use of it.
    const bob = bearer(await jwtFor(12));
    for (const [method, path] of [
      ['GET', '/api/v1/queue/token'],
      ['GET', '/api/v1/reservations/concerts'],
      ['POST', '/api/v1/reservations'],
      ['DELETE', '/api/v1/queue/token'],
    ] as const) {
      const body =
        method === 'POST'
          ? { reservationUuid: crypto.randomUUID(), seatId: concert.seatIds[0] }
          : undefined;
      const reply = await client.call(method, path, { headers: { ...bob, ...token }, body });
      expect([reply.status, reply.code], `${method} ${path}`).toEqual([
        403,
        'QUEUE_TOKEN_USER_MISMATCH',
      ]);
    }
    // Without any JWT the token alone is not enough.
    const bare = await client.call('GET', '/api/v1/reservations/concerts', { headers: token });
    expect([bare.status, bare.code]).toEqual([401, 'AUTH_REQUIRED']);
    // A Client-Id naming someone else is refused; naming yourself is fine.
    const lying = await client.call('GET', '/api/v1/balance', {
      headers: { ...alice, 'client-id': '12' },
    });
    expect([lying.status, lying.code]).toEqual([403, 'CLIENT_ID_MISMATCH']);
    expect(
      (await client.call('GET', '/api/v1/balance', { headers: { ...alice, 'client-id': '11' } }))
        .status,
    ).toBe(200);

    const paid = await client.call('POST', '/api/v1/reservations', {
      headers: { ...alice, ...token },
      body: { reservationUuid: crypto.randomUUID(), seatId: concert.seatIds[0] },
    });
    expect(paid.status).toBe(201);
    expect(
      (await client.call<{ balance: number }>('GET', '/api/v1/balance', { headers: bob })).data
        .balance,
    ).toBe(0);
  });

  it('refuses missing, malformed, forged, expired, exp-less, wrong-algorithm and non-numeric-subject JWTs', async () => {
    const { client } = server;
    const now = Math.floor(Date.now() / 1000);
    const otherKey = new TextEncoder().encode('another-secret-that-is-32-chars-long!!');
    const ownKey = new TextEncoder().encode(SECRET);
    const cases: [string, Record<string, string>, string][] = [
      ['missing', {}, 'AUTH_REQUIRED'],
      ['not bearer', { authorization: 'Basic dXNlcjpwYXNz' }, 'AUTH_INVALID'],
      ['garbage', { authorization: 'Bearer not.a.jwt' }, 'AUTH_INVALID'],
      [
        'forged',
        bearer(
          await new SignJWT({})
            .setProtectedHeader({ alg: 'HS256' })
            .setSubject('11')
            .setExpirationTime('1h')
            .sign(otherKey),
        ),
        'AUTH_INVALID',
      ],
      [
        'expired',
        bearer(
          await new SignJWT({})
            .setProtectedHeader({ alg: 'HS256' })
            .setSubject('11')
            .setExpirationTime(now - 120)
            .sign(ownKey),
        ),
        'AUTH_INVALID',
      ],
      [
        'no exp',
        bearer(
          await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('11').sign(ownKey),
        ),
        'AUTH_INVALID',
      ],
      [
        'sub not a user id',
        bearer(
          await new SignJWT({})
            .setProtectedHeader({ alg: 'HS256' })
            .setSubject('alice')
            .setExpirationTime('1h')
            .sign(ownKey),
        ),
        'AUTH_INVALID',
      ],
      [
        'alg none',
        {
          authorization: `Bearer ${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(`{"sub":"11","exp":${now + 600}}`).toString('base64url')}.x`,
        },
        'AUTH_INVALID',
      ],
    ];
    for (const [name, headers, code] of cases) {
      for (const path of ['/api/v1/balance', '/api/v1/reservations']) {
        const reply = await client.call('GET', path, { headers });
        expect([reply.status, reply.code], `${name} on ${path}`).toEqual([401, code]);
        expect(reply.message).not.toMatch(/signature|jose|stack/i);
      }
    }
  });

  it('refuses JWTs that live longer than JWT_MAX_AGE_SECONDS or were issued in the future, within the clock tolerance', async () => {
    // Defaults: JWT_MAX_AGE_SECONDS 86,400 (24 h), JWT_CLOCK_TOLERANCE_SECONDS 30. A stolen
    // ten-year token would otherwise work for ten years; an iat in the future is a forger's or a
    // broken clock's.
    const { client } = server;
    const now = Math.floor(Date.now() / 1000);
    const ownKey = new TextEncoder().encode(SECRET);
    const sign = (claims: { iat?: number; exp: number }) => {
      let jwt = new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('14');
      if (claims.iat !== undefined) jwt = jwt.setIssuedAt(claims.iat);
      return jwt.setExpirationTime(claims.exp).sign(ownKey);
    };
    const day = 86_400;
    const refused: [string, { iat?: number; exp: number }][] = [
      ['ten years, iat now', { iat: now, exp: now + 10 * 365 * day }],
      ['ten years, no iat', { exp: now + 10 * 365 * day }],
      ['one second over a day (exp - iat)', { iat: now - 10, exp: now - 10 + day + 1 }],
      ['a day and a minute ahead, no iat', { exp: now + day + 60 }],
      ['issued an hour in the future', { iat: now + 3_600, exp: now + 7_200 }],
      ['issued a minute in the future', { iat: now + 60, exp: now + 600 }],
      ['expired two minutes ago', { iat: now - 600, exp: now - 120 }],
    ];
    const accepted: [string, { iat?: number; exp: number }][] = [
      ['exactly a day (exp - iat)', { iat: now, exp: now + day }],
      ['a day ahead, no iat', { exp: now + day }],
      ['an hour', { iat: now, exp: now + 3_600 }],
      ['issued 10 s in the future (clock skew)', { iat: now + 10, exp: now + 3_600 }],
      ['expired 5 s ago (clock skew)', { iat: now - 600, exp: now - 5 }],
    ];
    const problems: string[] = [];
    for (const [name, claims] of refused) {
      const reply = await client.call('GET', '/api/v1/balance', {
        headers: bearer(await sign(claims)),
      });
      if (reply.status !== 401 || reply.code !== 'AUTH_INVALID')
        problems.push(`${name}: expected 401 AUTH_INVALID, got ${reply.status} ${reply.code}`);
    }
    for (const [name, claims] of accepted) {
      const reply = await client.call('GET', '/api/v1/balance', {
        headers: bearer(await sign(claims)),
      });
      if (reply.status !== 200)
        problems.push(`${name}: expected 200, got ${reply.status} ${reply.code}`);
    }
    expect(problems).toEqual([]);
  });

  it('takes the lifetime limit and the clock tolerance from the configuration', async () => {
    const strict = await startTestServer(db, {
      AUTH_MODE: 'jwt',
      JWT_SECRET: SECRET,
      JWT_MAX_AGE_SECONDS: '600',
      JWT_CLOCK_TOLERANCE_SECONDS: '0',
    });
    try {
      const now = Math.floor(Date.now() / 1000);
      const ownKey = new TextEncoder().encode(SECRET);
      const sign = (iat: number, exp: number) =>
        new SignJWT({})
          .setProtectedHeader({ alg: 'HS256' })
          .setSubject('15')
          .setIssuedAt(iat)
          .setExpirationTime(exp)
          .sign(ownKey);
      const status = async (jwt: string) =>
        (await strict.client.call('GET', '/api/v1/balance', { headers: bearer(jwt) })).status;
      expect(await status(await sign(now, now + 600))).toBe(200);
      expect(await status(await sign(now, now + 601))).toBe(401);
      expect(await status(await sign(now + 10, now + 300))).toBe(401);
      expect(await status(await mintToken(hs256, { userId: 15, ttlSeconds: 600 }))).toBe(200);
    } finally {
      await strict.close();
    }
  });

  it('opens operator endpoints to the admin role only', async () => {
    const { client } = server;
    const path = '/api/v1/admin/dead-letters';
    expect((await client.call('GET', path)).code).toBe('AUTH_REQUIRED');
    const user = await client.call('GET', path, { headers: bearer(await jwtFor(13)) });
    expect([user.status, user.code]).toEqual([403, 'ADMIN_REQUIRED']);
    const admin = await client.call('GET', path, { headers: bearer(await jwtFor(1, true)) });
    expect([admin.status, admin.data]).toEqual([200, []]);
    const replay = await client.call('POST', `${path}/ranking/${crypto.randomUUID()}/replay`, {
      headers: bearer(await jwtFor(1, true)),
    });
    expect([replay.status, replay.code]).toEqual([404, 'DEAD_LETTER_NOT_FOUND']);
  });
});

describeWithPostgres('RS256 public key and ES256 JWKS', () => {
  const db = useTestDatabase();
  let dir: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'overture-keys-'));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it.each(['RS256', 'ES256'] as const)(
    '%s: accepts tokens of the configured key and refuses others',
    async (alg) => {
      const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
      const stranger = await generateKeyPair(alg, { extractable: true });
      const keyConfig: Record<string, string> = {
        AUTH_MODE: 'jwt',
        JWT_ALGORITHM: alg,
        JWT_ISSUER: 'https://id.example',
        JWT_AUDIENCE: 'overture',
      };
      if (alg === 'RS256') {
        const file = join(dir, 'rs256.pem');
        writeFileSync(file, await exportSPKI(publicKey));
        keyConfig.JWT_PUBLIC_KEY_FILE = file;
      } else {
        const file = join(dir, 'jwks.json');
        writeFileSync(
          file,
          JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg }] }),
        );
        keyConfig.JWT_JWKS_FILE = file;
      }
      const server = await startTestServer(db, keyConfig);
      try {
        const settings = {
          JWT_ALGORITHM: alg,
          JWT_SECRET: '',
          JWT_ISSUER: 'https://id.example',
          JWT_AUDIENCE: 'overture',
        };
        const good = await mintToken(settings, { userId: 21 }, await exportPKCS8(privateKey));
        const foreign = await mintToken(
          settings,
          { userId: 21 },
          await exportPKCS8(stranger.privateKey),
        );
        const wrongAudience = await mintToken(
          { ...settings, JWT_AUDIENCE: 'someone-else' },
          { userId: 21 },
          await exportPKCS8(privateKey),
        );
        expect(
          (await server.client.call('GET', '/api/v1/balance', { headers: bearer(good) })).status,
        ).toBe(200);
        expect(
          (await server.client.call('GET', '/api/v1/balance', { headers: bearer(foreign) })).code,
        ).toBe('AUTH_INVALID');
        expect(
          (await server.client.call('GET', '/api/v1/balance', { headers: bearer(wrongAudience) }))
            .code,
        ).toBe('AUTH_INVALID');
      } finally {
        await server.close();
      }
    },
  );
});
