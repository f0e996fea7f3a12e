import { describe, expect, it } from 'vitest';
import {
  expandSeatMap,
  mapCounts,
  MAX_VENUE_PLACES,
  type SectionInput,
} from '../../src/modules/venues/venues.rules.js';

const problem = (sections: SectionInput[]) => {
  const result = expandSeatMap(sections);
  return result.ok ? undefined : result.problem.field;
};

describe('seat map rules', () => {
  it('expands counted rows by start, step and the label pattern, keeps listed ones', () => {
    const result = expandSeatMap([
      { name: 'GA', kind: 'general-admission', capacity: 10 },
      {
        name: 'S1',
        labels: '{section}/{row}{seat}',
        rows: [
          { name: 'A', seats: 3, start: 0, step: 2 },
          { name: 'B', seats: [{ label: 'x' }] },
        ],
      },
      { name: 'S2', rows: [{ name: 'A', seats: 2 }] },
    ]);
    expect(result).toEqual({
      ok: true,
      sections: [
        { name: 'GA', kind: 'general-admission', capacity: 10, rows: [] },
        {
          name: 'S1',
          kind: 'seated',
          capacity: 4,
          rows: [
            { name: 'A', labels: ['S1/A0', 'S1/A2', 'S1/A4'] },
            { name: 'B', labels: ['x'] },
          ],
        },
        { name: 'S2', kind: 'seated', capacity: 2, rows: [{ name: 'A', labels: ['A-1', 'A-2'] }] },
      ],
    });
    if (result.ok) expect(mapCounts(result.sections)).toEqual({ seatCount: 6, capacity: 16 });
  });

  it('names the first broken rule', () => {
    expect(
      problem([
        { name: 'A', rows: [{ name: '1', seats: 1 }] },
        { name: 'A', capacity: 1, kind: 'general-admission' },
      ]),
    ).toBe('sections[1].name');
    expect(problem([{ name: 'A', labels: '{row}', rows: [{ name: '1', seats: 2 }] }])).toBe(
      'sections[0].labels',
    );
    expect(problem([{ name: 'A', rows: [{ name: '1', seats: [{ label: 'a' }], start: 3 }] }])).toBe(
      'sections[0].rows[0]',
    );
    expect(problem([{ name: 'A', capacity: 3 }])).toBe('sections[0].capacity');
    expect(problem([{ name: 'A' }])).toBe('sections[0].rows');
    expect(problem([{ name: 'G', kind: 'general-admission', capacity: 1, rows: [] }])).toBe(
      'sections[0]',
    );
    expect(
      problem([{ name: 'G', kind: 'general-admission', capacity: MAX_VENUE_PLACES + 1 }]),
    ).toBe('sections[0]');
    // Same labels in two sections are fine: a label is unique in its section.
    expect(
      problem([
        { name: 'A', rows: [{ name: '1', seats: 5 }] },
        { name: 'B', rows: [{ name: '1', seats: 5 }] },
      ]),
    ).toBeUndefined();
  });

  it('takes exactly MAX_VENUE_PLACES places, not one more', () => {
    const rows = (n: number) =>
      Array.from({ length: n }, (_, r) => ({ name: `R${r}`, seats: 1_000 }));
    expect(problem([{ name: 'A', rows: rows(100) }])).toBeUndefined();
    expect(
      problem([
        { name: 'A', rows: rows(100) },
        { name: 'B', rows: [{ name: '1', seats: 1 }] },
      ]),
    ).toBe('sections[1].rows[0]');
  });
});
