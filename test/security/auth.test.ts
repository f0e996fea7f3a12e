import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, exportPKCS8, exportSPKI, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { mintToken } from '../../src/modules/auth/mint.js';
import { createTestDatabase, describeWithPostgres, type TestDatabase } from '../support/db.js';
import { createConcert, setBalance } from '../support/fixtures.js';
import { startTestServer, type TestServer } from '../support/server.js';

const SECRET = 'a-test-secret-of-at-least-32-characters!';
const hs256 = {
  JWT_ALGORITHM: 'HS256' as const,
  JWT_SECRET: SECRET,
  JWT_ISSUER: '',
  JWT_AUDIENCE: '',
};
const bearer = (jwt: string) => ({ authorization: `Bearer ${jwt}` });

describe('AUTH_MODE start-up rules', () => {
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
  let db: TestDatabase;
  let server: TestServer;

  beforeAll(async () => {
    db = await createTestDatabase();
    server = await startTestServer(db, { AUTH_MODE: 'jwt', JWT_SECRET: SECRET, MAX_ACTIVE: '100' });
  });
  afterAll(async () => {
    await server?.close();
    await db?.drop();
  });

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
            .setExpirationTime(now - 10)
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
  let db: TestDatabase;
  let dir: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    dir = mkdtempSync(join(tmpdir(), 'overture-keys-'));
  });
  afterAll(async () => {
    await db?.drop();
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
