/**
 * The rules of a concert on a venue (docs/decisions/0036): its price categories mapped to the
 * venue's sections, its sections' URL keys, its sale settings. Pure: no I/O, unit-tested.
 */

/** The lifetime bounds of a concert's holds (seconds). */
export const HOLD_SECONDS = { min: 10, max: 3_600 } as const;

export interface CategoryInput {
  name: string;
  /** Won, a positive integer. */
  price: number;
  /** Names of the venue's sections sold at this price. */
  sections: string[];
}

/** What is wrong, and where (`priceCategories[1].sections[0]`, `saleClosesAt`). */
export interface Problem {
  field: string;
  message: string;
}

/** A venue section as the concert takes it: its name, in map order. */
export interface VenueSectionRef {
  name: string;
}

/** Each section's category (its index in the categories), in map order, or the first problem. */
export type Assignment = { ok: true; categoryOf: number[] } | { ok: false; problem: Problem };

/**
 * Every section of the venue gets exactly one category: a category names only sections of the
 * venue, no section twice, and none is left out. Category names are unique.
 */
export function assignCategories(
  sections: VenueSectionRef[],
  categories: CategoryInput[],
): Assignment {
  const refuse = (field: string, message: string): Assignment => ({
    ok: false,
    problem: { field, message },
  });
  const index = new Map(sections.map((section, i) => [section.name, i]));
  const categoryOf: (number | undefined)[] = sections.map(() => undefined);
  const names = new Set<string>();
  for (const [c, category] of categories.entries()) {
    if (names.has(category.name))
      return refuse(
        `priceCategories[${c}].name`,
        `Price category "${category.name}" appears twice.`,
      );
    names.add(category.name);
    for (const [k, name] of category.sections.entries()) {
      const at = `priceCategories[${c}].sections[${k}]`;
      const s = index.get(name);
      if (s === undefined) return refuse(at, `The venue has no section "${name}".`);
      const taken = categoryOf[s];
      if (taken !== undefined)
        return refuse(
          at,
          `Section "${name}" is already in price category "${categories[taken]?.name ?? ''}": a section has exactly one category.`,
        );
      categoryOf[s] = c;
    }
  }
  const missing = categoryOf.findIndex((category) => category === undefined);
  if (missing >= 0)
    return refuse(
      'priceCategories',
      `Section "${sections[missing]?.name ?? ''}" has no price category: every section needs exactly one.`,
    );
  return { ok: true, categoryOf: categoryOf as number[] };
}

/** A concert's times as they will be after a change. */
export interface SaleTimes {
  showAt: Date;
  /** null: the sale is open from the start (the demo's concerts). */
  saleOpensAt: Date | null;
  /** null: the sale closes with the show. */
  saleClosesAt: Date | null;
}

/** opens < closes ≤ show; the first broken rule names its field. */
export function saleWindowProblem(times: SaleTimes): Problem | null {
  const { showAt, saleOpensAt, saleClosesAt } = times;
  const closes = saleClosesAt ?? showAt;
  if (closes.getTime() > showAt.getTime())
    return {
      field: 'saleClosesAt',
      message: 'The sale must close at or before the show (saleClosesAt ≤ showAt).',
    };
  if (saleOpensAt && saleOpensAt.getTime() >= closes.getTime())
    return {
      field: saleClosesAt ? 'saleClosesAt' : 'saleOpensAt',
      message: 'The sale must open before it closes (saleOpensAt < saleClosesAt, or the show).',
    };
  return null;
}
