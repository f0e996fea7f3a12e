import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { assignCategories, saleWindowProblem } from '../../src/modules/concerts/catalogue.rules.js';
import { sectionKeys } from '../../src/shared/section-keys.js';

const sections = ['Floor', 'A', 'B'].map((name) => ({ name }));

describe('price categories mapped to sections', () => {
  it('gives every section the index of its one category, in map order', () => {
    expect(
      assignCategories(sections, [
        { name: 'R', price: 10, sections: ['B', 'A'] },
        { name: 'GA', price: 5, sections: ['Floor'] },
      ]),
    ).toEqual({ ok: true, categoryOf: [1, 0, 0] });
  });

  it('names the first broken rule: unknown section, a section twice, a duplicate name, a section left out', () => {
    const field = (categories: Parameters<typeof assignCategories>[1]) => {
      const result = assignCategories(sections, categories);
      return result.ok ? undefined : result.problem.field;
    };
    expect(field([{ name: 'R', price: 1, sections: ['Floor', 'A', 'B', 'C'] }])).toBe(
      'priceCategories[0].sections[3]',
    );
    expect(
      field([
        { name: 'R', price: 1, sections: ['Floor', 'A'] },
        { name: 'S', price: 1, sections: ['B', 'A'] },
      ]),
    ).toBe('priceCategories[1].sections[1]');
    expect(
      field([
        { name: 'R', price: 1, sections: ['Floor'] },
        { name: 'R', price: 2, sections: ['A', 'B'] },
      ]),
    ).toBe('priceCategories[1].name');
    const missing = assignCategories(sections, [{ name: 'R', price: 1, sections: ['A', 'B'] }]);
    expect(missing).toEqual({
      ok: false,
      problem: {
        field: 'priceCategories',
        message: expect.stringContaining('"Floor"') as string,
      },
    });
  });

  it('accepts exactly the partitions of the sections (property)', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.string({ minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 8 }),
        fc.array(fc.nat(3), { minLength: 8, maxLength: 8 }),
        fc.boolean(),
        (names, owner, dropOne) => {
          const venue = names.map((name) => ({ name }));
          const categories = [0, 1, 2, 3].map((c) => ({
            name: `C${c}`,
            price: 1,
            sections: names.filter((_, s) => owner[s] === c),
          }));
          if (dropOne) categories[owner[0] ?? 0]?.sections.shift();
          const result = assignCategories(
            venue,
            categories.filter((category) => category.sections.length > 0),
          );
          expect(result.ok).toBe(!dropOne);
        },
      ),
    );
  });
});

describe('section keys', () => {
  it('makes names URL-safe and unique, by position when a name gives an empty or taken key', () => {
    expect(sectionKeys(['Upper Stalls', 'S101', '1층 A', '!!', 'upper stalls'])).toEqual([
      'upper-stalls',
      's101',
      '1-a',
      's-4',
      'upper-stalls-5',
    ]);
    expect(sectionKeys(['a-3', 'a', 'A'])).toEqual(['a-3', 'a', 'a-4']);
    fc.assert(
      fc.property(fc.uniqueArray(fc.string(), { maxLength: 30 }), (names) => {
        const keys = sectionKeys(names);
        expect(new Set(keys).size).toBe(names.length);
        for (const key of keys) expect(key).toMatch(/^[a-z0-9-]{1,100}$/);
      }),
    );
  });
});

describe('sale window', () => {
  const at = (hours: number) => new Date(Date.UTC(2027, 0, 1) + hours * 3_600_000);
  it('wants opens < closes ≤ show, null meaning open from the start / closing with the show', () => {
    expect(saleWindowProblem({ showAt: at(10), saleOpensAt: null, saleClosesAt: null })).toBe(null);
    expect(saleWindowProblem({ showAt: at(10), saleOpensAt: at(1), saleClosesAt: at(10) })).toBe(
      null,
    );
    expect(
      saleWindowProblem({ showAt: at(10), saleOpensAt: at(1), saleClosesAt: at(11) })?.field,
    ).toBe('saleClosesAt');
    expect(
      saleWindowProblem({ showAt: at(10), saleOpensAt: at(5), saleClosesAt: at(5) })?.field,
    ).toBe('saleClosesAt');
    expect(
      saleWindowProblem({ showAt: at(10), saleOpensAt: at(10), saleClosesAt: null })?.field,
    ).toBe('saleOpensAt');
  });
});
