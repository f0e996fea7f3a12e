import type { Static } from 'typebox';
import { describe, expect, it } from 'vitest';
import { mintToken } from '../../src/modules/auth/mint.js';
import { describeWithPostgres } from '../support/db.js';
import { startTestServer } from '../support/server.js';
import { useTestServer } from '../support/suite.js';
import { useTestDatabase } from '../support/suite.js';
import type { AuditRecord as AuditEntry } from '../../src/modules/audit/audit.store.js';
import type { venueDetail, venueSummary } from '../../src/modules/venues/venues.schemas.js';

const KEY = 'venues-test-operator-key-0123456789abcdef';
const operator = { authorization: `Bearer ${KEY}` };

type Summary = Static<typeof venueSummary>;
type Detail = Static<typeof venueDetail>;

const hall = {
  name: 'Small Hall',
  address: '1 Music Street, Seoul',
  sections: [
    { name: 'Floor', kind: 'general-admission', capacity: 100 },
    {
      name: 'Stalls',
      rows: [
        { name: 'A', seats: [{ label: 'A-1' }, { label: 'A-2' }, { label: 'A-3' }] },
        { name: 'B', seats: 4, start: 2, step: 2 },
      ],
    },
  ],
};

/** 20 sections × 25 rows × 40 seats = 20,000 seats in the compact form. */
const arena = {
  name: 'Arena',
  address: '2 Stadium Road, Seoul',
  sections: Array.from({ length: 20 }, (_, s) => ({
    name: `S${101 + s}`,
    rows: Array.from({ length: 25 }, (_, r) => ({ name: String(r + 1), seats: 40 })),
  })),
};

describeWithPostgres('venues and the audit log (AUTH_MODE=client-id, OPERATOR_KEY)', () => {
  const { db, server } = useTestServer({ OPERATOR_KEY: KEY });

  const call = <T>(method: string, path: string, body?: unknown, headers = operator) =>
    server.client.call<T>(method, `/api/v1/admin${path}`, { headers, body });
  const audit = async (query = '') =>
    (await call<{ entries: AuditEntry[]; nextBefore: number | null }>('GET', `/audit${query}`))
      .data;

  it('creates a venue from an explicit and a counted row, and reads every seat back', async () => {
    const created = await call<Summary>('POST', '/venues', hall);
    expect([created.status, created.code]).toEqual([201, 'SUCCESS']);
    expect(created.data).toMatchObject({
      name: 'Small Hall',
      seatCount: 7,
      capacity: 107,
      inUse: false,
      sections: [
        { name: 'Floor', kind: 'general-admission', capacity: 100, rowCount: 0 },
        { name: 'Stalls', kind: 'seated', capacity: 7, rowCount: 2 },
      ],
    });
    const detail = await call<Detail>('GET', `/venues/${created.data.venueId}`);
    expect(detail.status).toBe(200);
    expect(detail.data.sections[1]?.rows).toEqual([
      { name: 'A', seats: [{ label: 'A-1' }, { label: 'A-2' }, { label: 'A-3' }] },
      { name: 'B', seats: ['B-2', 'B-4', 'B-6', 'B-8'].map((label) => ({ label })) },
    ]);
    expect(detail.data.sections[0]).toMatchObject({ kind: 'general-admission', rows: [] });
    const list = await call<Summary[]>('GET', '/venues');
    expect(list.data.map((venue) => venue.venueId)).toContain(created.data.venueId);
    expect((await call('GET', '/venues/999999')).code).toBe('VENUE_NOT_FOUND');
  });

  it('creates a 20,000-seat arena in one request of the compact form', async () => {
    const body = JSON.stringify(arena);
    const started = performance.now();
    const created = await call<Summary>('POST', '/venues', arena);
    const seconds = (performance.now() - started) / 1000;
    expect([created.status, created.data.seatCount]).toEqual([201, 20_000]);
    console.info(`20,000-seat arena: ${body.length} bytes, created in ${seconds.toFixed(2)} s`);
    expect(seconds).toBeLessThan(15);
    const { rows } = await db.pool.query<{ n: number; labels: number }>(
      `SELECT count(*)::int AS n, count(DISTINCT (section_id, label))::int AS labels
       FROM venue_seats e JOIN venue_sections s ON s.id = e.section_id WHERE s.venue_id = $1`,
      [created.data.venueId],
    );
    expect(rows[0]).toEqual({ n: 20_000, labels: 20_000 });
    const venueId = created.data.venueId;
    const detail = await call<Detail>('GET', `/venues/${venueId}`);
    expect(detail.data.sections[19]?.rows?.[24]?.seats.at(-1)).toEqual({ label: '25-40' });
    expect(detail.data.sections[19]).toMatchObject({ key: 's120', capacity: 1_000, rowCount: 25 });

    // Read a section at a time: the sections counted, then one section's seats.
    const summary = (await call<Detail>('GET', `/venues/${venueId}?seats=false`)).data;
    expect(summary.sections).toHaveLength(20);
    expect(summary.sections[0]).toEqual({
      key: 's101',
      name: 'S101',
      kind: 'seated',
      capacity: 1_000,
      rowCount: 25,
    });
    const section = (
      await call<Detail['sections'][number]>(
        'GET',
        `/venues/${venueId}/sections/${summary.sections[19]?.key ?? ''}`,
      )
    ).data;
    expect(section).toMatchObject({ venueId, key: 's120', name: 'S120', rowCount: 25 });
    expect(section.rows).toEqual(detail.data.sections[19]?.rows);
    const [wholeSize, countedSize, oneSize] = [detail.data, summary, section].map(
      (data) => JSON.stringify(data).length,
    );
    console.info(
      `20,000-seat arena as JSON: whole map ${wholeSize} bytes, sections counted ${countedSize}, one section ${oneSize}`,
    );
    expect(countedSize).toBeLessThan((wholeSize ?? 0) / 50);
    expect(oneSize).toBeLessThan((wholeSize ?? 0) / 10);
  });

  it('reads one section of a small hall, and refuses an unknown venue or section', async () => {
    const created = await call<Summary>('POST', '/venues', { ...hall, name: 'Section Hall' });
    expect(created.data.sections.map((section) => section.key)).toEqual(['floor', 'stalls']);
    const venueId = created.data.venueId;
    const stalls = await call<Detail['sections'][number]>(
      'GET',
      `/venues/${venueId}/sections/stalls`,
    );
    expect([stalls.status, stalls.data]).toEqual([
      200,
      {
        venueId,
        key: 'stalls',
        name: 'Stalls',
        kind: 'seated',
        capacity: 7,
        rowCount: 2,
        rows: [
          { name: 'A', seats: [{ label: 'A-1' }, { label: 'A-2' }, { label: 'A-3' }] },
          { name: 'B', seats: ['B-2', 'B-4', 'B-6', 'B-8'].map((label) => ({ label })) },
        ],
      },
    ]);
    const floor = await call<Detail['sections'][number]>(
      'GET',
      `/venues/${venueId}/sections/floor`,
    );
    expect(floor.data).toMatchObject({ kind: 'general-admission', capacity: 100, rows: [] });
    const refusal = async (path: string, headers = operator) => {
      const reply = await call<{ field?: string }>('GET', path, undefined, headers);
      return [reply.status, reply.code, reply.data?.field];
    };
    expect(await refusal(`/venues/${venueId}/sections/balcony`)).toEqual([
      404,
      'SECTION_NOT_FOUND',
      'sectionKey',
    ]);
    expect(await refusal(`/venues/999999999/sections/stalls`)).toEqual([
      404,
      'VENUE_NOT_FOUND',
      'venueId',
    ]);
    expect((await refusal(`/venues/${venueId}/sections/Not%20A%20Key`))[0]).toBe(400);
    expect((await refusal(`/venues/${venueId}?seats=maybe`))[0]).toBe(400);
    expect((await refusal(`/venues/${venueId}/sections/stalls`, {} as typeof operator))[0]).toBe(
      401,
    );
  });

  it('names the offending section and row, and refuses duplicates and oversized maps', async () => {
    const refused = async (sections: unknown) => {
      const reply = await call<{ field: string }>('POST', '/venues', { ...hall, sections });
      return [reply.status, reply.code, reply.data?.field];
    };
    // Five listed rows, then a counted one whose labels (no {row} in them) repeat row 0's.
    const rows = [
      ...Array.from({ length: 5 }, (_, r) => ({
        name: `R${r}`,
        seats: [{ label: r === 0 ? 'C2' : `C${10 + r}` }],
      })),
      { name: 'R5', seats: 3 },
    ];
    // Labels without the row repeat the row before's: sections[2].rows[5].
    expect(
      await refused([
        { name: 'A', rows: [{ name: '1', seats: 2 }] },
        { name: 'B', rows: [{ name: '1', seats: 2 }] },
        { name: 'C', labels: 'C{seat}', rows },
      ]),
    ).toEqual([400, 'INVALID_SEAT_MAP', 'sections[2].rows[5]']);
    expect(
      await refused([
        { name: 'A', rows: [{ name: '1', seats: [{ label: 'x' }, { label: 'x' }] }] },
      ]),
    ).toEqual([400, 'INVALID_SEAT_MAP', 'sections[0].rows[0].seats[1]']);
    expect(
      await refused([
        { name: 'A', rows: [{ name: '1', seats: 1 }] },
        { name: 'A', kind: 'general-admission', capacity: 5 },
      ]),
    ).toEqual([400, 'INVALID_SEAT_MAP', 'sections[1].name']);
    expect(
      await refused([
        {
          name: 'A',
          rows: [
            { name: '1', seats: 1 },
            { name: '1', seats: 1 },
          ],
        },
      ]),
    ).toEqual([400, 'INVALID_SEAT_MAP', 'sections[0].rows[1].name']);
    expect(await refused([{ name: 'G', kind: 'general-admission' }])).toEqual([
      400,
      'INVALID_SEAT_MAP',
      'sections[0].capacity',
    ]);
    expect(
      await refused([
        { name: 'G', kind: 'general-admission', capacity: 99_999 },
        { name: 'A', rows: [{ name: '1', seats: 2 }] },
      ]),
    ).toEqual([400, 'INVALID_SEAT_MAP', 'sections[1].rows[0]']);
    // Schema-level problems are INVALID_REQUEST naming the field.
    const bad = await call<{ field: string }>('POST', '/venues', {
      ...hall,
      sections: [{ name: 'A', rows: [{ name: '1', seats: 0 }] }],
    });
    expect([bad.status, bad.code]).toEqual([400, 'INVALID_REQUEST']);
    expect(bad.data.field).toMatch(/^sections\.0\.rows\.0\.seats/);
  });

  it('changes name and address always, the map only while no concert uses the venue', async () => {
    const venue = (await call<Summary>('POST', '/venues', hall)).data;
    const path = `/venues/${venue.venueId}`;
    const renamed = await call<Summary>('PATCH', path, { name: 'Renamed Hall' });
    expect([renamed.status, renamed.data.name, renamed.data.address]).toEqual([
      200,
      'Renamed Hall',
      hall.address,
    ]);
    const remapped = await call<Summary>('PATCH', path, {
      sections: [{ name: 'Only', rows: [{ name: 'A', seats: 10 }] }],
    });
    expect([remapped.status, remapped.data.seatCount, remapped.data.capacity]).toEqual([
      200, 10, 10,
    ]);
    await db.pool.query(
      `INSERT INTO concerts (title, venue, venue_id, show_datetime) VALUES ('On tour', 'Renamed Hall', $1, now() + interval '1 day')`,
      [venue.venueId],
    );
    const inUse = await call<Summary>('PATCH', path, {
      sections: [{ name: 'Other', rows: [{ name: 'A', seats: 5 }] }],
    });
    expect([inUse.status, inUse.code]).toEqual([409, 'VENUE_IN_USE']);
    expect((await call<Detail>('GET', path)).data).toMatchObject({ inUse: true, seatCount: 10 });
    const address = await call<Summary>('PATCH', path, { address: '3 New Street' });
    expect([address.status, address.data.address]).toEqual([200, '3 New Street']);
    expect((await call('PATCH', '/venues/999999', { name: 'x' })).code).toBe('VENUE_NOT_FOUND');
    expect((await call('PATCH', path, {})).code).toBe('INVALID_REQUEST');

    const entries = (await audit(`?targetType=venue&targetId=${venue.venueId}`)).entries;
    expect(entries.map((entry) => [entry.action, entry.outcome, entry.code])).toEqual([
      ['venue.update', 'REFUSED', 'INVALID_REQUEST'],
      ['venue.update', 'SUCCESS', null],
      ['venue.update', 'REFUSED', 'VENUE_IN_USE'],
      ['venue.update', 'SUCCESS', null],
      ['venue.update', 'SUCCESS', null],
      ['venue.create', 'SUCCESS', null],
    ]);
    const refusal = entries[2]!;
    expect(refusal.requestId).toBe(inUse.headers.get('x-request-id'));
    // The refused change wrote no success row for its request.
    const ofRequest = (await audit()).entries.filter((e) => e.requestId === refusal.requestId);
    expect(ofRequest.map((e) => e.outcome)).toEqual(['REFUSED']);
    const rename = entries[4]!;
    expect(rename.before).toMatchObject({ name: 'Small Hall' });
    expect(rename.after).toMatchObject({ name: 'Renamed Hall' });
    expect(rename.actor).toMatch(/^operator-key:[0-9a-f]{8}$/);
    expect(rename.requestId).toBe(renamed.headers.get('x-request-id'));
  });

  it('asks for the key before anything else, and records no attempt without it', async () => {
    const before = (await audit()).entries[0]?.auditId ?? 0;
    const none = await call('POST', '/venues', { nonsense: true }, {} as typeof operator);
    expect([none.status, none.code]).toEqual([401, 'OPERATOR_KEY_REQUIRED']);
    const wrong = await call('POST', '/venues', hall, { authorization: `Bearer ${KEY}x` });
    expect([wrong.status, wrong.code]).toEqual([401, 'OPERATOR_KEY_INVALID']);
    const basic = await call('GET', '/audit', undefined, { authorization: 'Basic abc' });
    expect([basic.status, basic.code]).toEqual([401, 'OPERATOR_KEY_INVALID']);
    expect((await audit()).entries[0]?.auditId).toBe(before);
    expect((await call('GET', '/venues', undefined, { 'client-id': '1' } as never)).code).toBe(
      'OPERATOR_KEY_REQUIRED',
    );
  });

  it('filters and pages the audit log', async () => {
    const created = await call<Summary>('POST', '/venues', { ...hall, name: 'Paged' });
    const all = await audit('?action=venue.create');
    expect(all.entries.every((entry) => entry.action === 'venue.create')).toBe(true);
    expect(all.entries[0]).toMatchObject({
      targetId: String(created.data.venueId),
      before: null,
      after: { name: 'Paged', seatCount: 7 },
    });
    const first = await audit('?limit=2');
    expect(first.entries).toHaveLength(2);
    expect(first.nextBefore).toBe(first.entries[1]!.auditId);
    const second = await audit(`?limit=2&before=${first.nextBefore}`);
    expect(second.entries[0]!.auditId).toBeLessThan(first.nextBefore!);
    const future = await audit(`?from=${new Date(Date.now() + 60_000).toISOString()}`);
    expect(future.entries).toEqual([]);
    const refusals = await audit('?outcome=REFUSED');
    expect(refusals.entries.length).toBeGreaterThan(0);
    expect(refusals.entries.every((entry) => entry.outcome === 'REFUSED')).toBe(true);
    expect((await audit('?actor=nobody')).entries).toEqual([]);
    expect((await call('GET', '/audit?limit=0')).code).toBe('INVALID_REQUEST');
  });

  it('keeps the audit log append-only in the database', async () => {
    for (const statement of [
      `UPDATE audit_log SET actor = 'someone else'`,
      `DELETE FROM audit_log`,
      `TRUNCATE audit_log`,
    ])
      await expect(db.pool.query(statement), statement).rejects.toThrow(/append-only/);
    expect((await audit()).entries.length).toBeGreaterThan(0);
  });

  it('writes the audit row in the change’s transaction: no record, no change', async () => {
    const count = async () =>
      Number((await db.pool.query<{ n: string }>(`SELECT count(*) AS n FROM venues`)).rows[0]?.n);
    const venues = await count();
    await db.pool.query(
      `ALTER TABLE audit_log ADD CONSTRAINT test_refuse_creates CHECK (action <> 'venue.create') NOT VALID`,
    );
    try {
      const reply = await call('POST', '/venues', { ...hall, name: 'Never' });
      expect(reply.status).toBe(500);
      expect(await count()).toBe(venues);
    } finally {
      await db.pool.query(`ALTER TABLE audit_log DROP CONSTRAINT test_refuse_creates`);
    }
  });
});

describeWithPostgres('operator endpoints without a key, and with AUTH_MODE=jwt', () => {
  const db = useTestDatabase();

  it('are off on PostgreSQL without OPERATOR_KEY', async () => {
    const server = await startTestServer(db);
    try {
      for (const [method, path] of [
        ['GET', '/api/v1/admin/venues'],
        ['POST', '/api/v1/admin/venues'],
        ['GET', '/api/v1/admin/audit'],
        ['GET', '/api/v1/admin/dead-letters'],
      ] as const) {
        const reply = await server.client.call(method, path, {
          headers: operator,
          ...(method === 'POST' ? { body: hall } : {}),
        });
        expect([reply.status, reply.code], path).toEqual([403, 'OPERATOR_ROUTES_OFF']);
      }
    } finally {
      await server.close();
    }
  });

  describe('AUTH_MODE=jwt', () => {
    const secret = 'venues-test-jwt-secret-of-32-characters!';
    it('takes an admin JWT, refuses a user JWT, and names the admin in the audit log', async () => {
      const server = await startTestServer(db, { AUTH_MODE: 'jwt', JWT_SECRET: secret });
      const jwt = (userId: number, admin: boolean) =>
        mintToken(
          { JWT_ALGORITHM: 'HS256', JWT_SECRET: secret, JWT_ISSUER: '', JWT_AUDIENCE: '' },
          { userId, admin },
        );
      try {
        const admin = { authorization: `Bearer ${await jwt(7, true)}` };
        const created = await server.client.call<Summary>('POST', '/api/v1/admin/venues', {
          headers: admin,
          body: hall,
        });
        expect(created.status).toBe(201);
        const user = await server.client.call('POST', '/api/v1/admin/venues', {
          headers: { authorization: `Bearer ${await jwt(8, false)}` },
          body: hall,
        });
        expect([user.status, user.code]).toEqual([403, 'ADMIN_REQUIRED']);
        const key = await server.client.call('GET', '/api/v1/admin/venues', { headers: operator });
        expect(key.status).toBe(401);
        const log = await server.client.call<{ entries: AuditEntry[] }>(
          'GET',
          '/api/v1/admin/audit?action=venue.create',
          { headers: admin },
        );
        expect(log.data.entries[0]).toMatchObject({
          actor: 'user:7',
          targetId: String(created.data.venueId),
        });
      } finally {
        await server.close();
      }
    });
  });
});
