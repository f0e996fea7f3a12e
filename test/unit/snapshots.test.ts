import { describe, expect, it } from 'vitest';
import { createSnapshots } from '../../src/shared/snapshots.js';

describe('keyed snapshots (seat maps, the popular list, the public concert list)', () => {
  it('one read per key and period, shared by concurrent readers; a failed read is not kept', async () => {
    let clock = 0;
    const reads: string[] = [];
    let fail = false;
    const snapshots = createSnapshots(1_000, { now: () => clock });
    const read = (key: string) => () => {
      reads.push(key);
      return fail ? Promise.reject(new Error('down')) : Promise.resolve({ key, at: clock });
    };
    const [a, b, c] = await Promise.all([
      snapshots.value('a', read('a')),
      snapshots.value('a', read('a')),
      snapshots.value('b', read('b')),
    ]);
    expect([a, b, c]).toEqual([
      { key: 'a', at: 0 },
      { key: 'a', at: 0 },
      { key: 'b', at: 0 },
    ]);
    clock = 999;
    expect(await snapshots.value('a', read('a'))).toEqual({ key: 'a', at: 0 });
    expect(reads).toEqual(['a', 'b']);
    clock = 1_000;
    fail = true;
    await expect(snapshots.value('a', read('a'))).rejects.toThrow('down');
    fail = false;
    expect(await snapshots.value('a', read('a'))).toEqual({ key: 'a', at: 1_000 });
    expect(reads).toEqual(['a', 'b', 'a', 'a']);
  });

  it('0 ms reads every time; an ETag only when asked for, equal for equal content', async () => {
    let reads = 0;
    const uncached = createSnapshots(0);
    await uncached.value('k', () => Promise.resolve(++reads));
    await uncached.value('k', () => Promise.resolve(++reads));
    expect(reads).toBe(2);
    expect((await uncached.read('k', () => Promise.resolve(1))).etag).toBeUndefined();
    const tagged = createSnapshots(0, { etag: true });
    const [x, y, z] = await Promise.all([
      tagged.read('x', () => Promise.resolve({ seats: [1, 2] })),
      tagged.read('y', () => Promise.resolve({ seats: [1, 2] })),
      tagged.read('z', () => Promise.resolve({ seats: [1, 3] })),
    ]);
    expect(x.etag).toMatch(/^"[A-Za-z0-9_-]{27}"$/);
    expect(y.etag).toBe(x.etag);
    expect(z.etag).not.toBe(x.etag);
  });
});
