import { AppError } from '../../shared/errors.js';
import type { AuditContext } from '../audit/audit.store.js';
import { sectionKeys } from '../../shared/section-keys.js';
import { assignCategories, saleWindowProblem, type CategoryInput } from './catalogue.rules.js';
import type {
  CatalogueRefusal,
  CatalogueStore,
  ConcertChange,
  ConcertDetail,
  ConcertReport,
  SeatPlan,
} from './catalogue.store.js';

/** The sale settings an operator may send (every one optional: defaults on create). */
export interface SaleSettingsInput {
  saleOpensAt?: string;
  saleClosesAt?: string;
  ticketLimit?: number;
  holdSeconds?: number;
  refundCutoffHours?: number;
  refundFeePercent?: number;
}

export interface ConcertInput extends SaleSettingsInput {
  title: string;
  description?: string;
  venueId: number;
  showAt: string;
  priceCategories: CategoryInput[];
}

export type ConcertPatch = Partial<ConcertInput>;

const concertNotFound = (concertId: number) =>
  new AppError('CONCERT_NOT_FOUND', `Concert ${concertId} does not exist.`, {
    field: 'concertId',
  });
const venueNotFound = (venueId: number) =>
  new AppError('VENUE_NOT_FOUND', `Venue ${venueId} does not exist.`, { field: 'venueId' });
const invalidCategories = (field: string, message: string) =>
  new AppError('INVALID_PRICE_CATEGORIES', message, { field });
const invalidSale = (field: string, message: string) =>
  new AppError('INVALID_SALE_SETTINGS', message, { field });

const at = (time: string | undefined) => (time === undefined ? undefined : new Date(time));

/** Operators' concerts on venues (docs/decisions/0036); every change audited by the store. */
export function createCatalogueService(deps: {
  store: CatalogueStore;
  /** SEAT_HOLD_TTL_SECONDS: a new concert's hold lifetime unless it says otherwise. */
  defaultHoldSeconds: number;
  now?: () => Date;
}) {
  const { store } = deps;
  const now = deps.now ?? (() => new Date());

  /** The venue's sections with their categories, or the refusal naming the offending one. */
  async function planOf(venueId: number, categories: CategoryInput[]): Promise<SeatPlan> {
    const sections = await store.venueSections(venueId);
    if (!sections) throw venueNotFound(venueId);
    const assignment = assignCategories(
      sections.map((name) => ({ name })),
      categories,
    );
    if (!assignment.ok)
      throw invalidCategories(assignment.problem.field, assignment.problem.message);
    const keys = sectionKeys(sections);
    return {
      venueId,
      categories: categories.map(({ name, price }) => ({ name, price })),
      sections: sections.map((name, i) => ({
        name,
        key: keys[i] ?? String(i),
        category: assignment.categoryOf[i] ?? 0,
      })),
    };
  }

  const refusalError = (
    refusal: CatalogueRefusal,
    ids: { concertId?: number; venueId?: number },
  ): AppError => {
    switch (refusal.reason) {
      case 'concert-not-found':
        return concertNotFound(ids.concertId ?? 0);
      case 'venue-not-found':
        return venueNotFound(ids.venueId ?? 0);
      case 'venue-changed':
        return invalidCategories(
          'priceCategories',
          "The venue's sections changed while the concert was being saved: check them and send it again.",
        );
      case 'has-sales':
        return new AppError(
          'CONCERT_HAS_SALES',
          `A seat of concert ${ids.concertId ?? 0} is held or sold: its seats, prices and venue can no longer change, and it cannot be deleted (only cancelled).`,
          { field: 'concertId' },
        );
      case 'cancelled':
        return new AppError(
          'CONCERT_CANCELLED',
          `Concert ${ids.concertId ?? 0} was cancelled: it stays as it was, the record of its refunds.`,
          { field: 'concertId' },
        );
      case 'sale-window':
        return invalidSale(
          'saleClosesAt',
          'The sale must open before it closes, and close at or before the show.',
        );
    }
  };

  return {
    async create(input: ConcertInput, audit: AuditContext): Promise<ConcertDetail> {
      const showAt = new Date(input.showAt);
      if (showAt.getTime() <= now().getTime())
        throw invalidSale('showAt', 'The show must be in the future.');
      const saleOpensAt = at(input.saleOpensAt) ?? null;
      const saleClosesAt = at(input.saleClosesAt) ?? showAt;
      const problem = saleWindowProblem({
        showAt,
        saleOpensAt: saleOpensAt ?? now(),
        saleClosesAt,
      });
      if (problem) throw invalidSale(problem.field, problem.message);
      const plan = await planOf(input.venueId, input.priceCategories);
      const outcome = await store.create(
        {
          title: input.title,
          description: input.description ?? '',
          showAt,
          saleOpensAt,
          saleClosesAt,
          ticketLimit: input.ticketLimit ?? 1,
          holdSeconds: input.holdSeconds ?? deps.defaultHoldSeconds,
          refundCutoffHours: input.refundCutoffHours ?? 24,
          refundFeePercent: input.refundFeePercent ?? 0,
          plan,
        },
        audit,
      );
      if (!outcome.ok) throw refusalError(outcome.refusal, { venueId: input.venueId });
      return outcome.value;
    },

    list(page: { limit: number; before?: number }): Promise<ConcertDetail[]> {
      return store.list(page);
    },

    async get(concertId: number): Promise<ConcertDetail> {
      const concert = await store.get(concertId);
      if (!concert) throw concertNotFound(concertId);
      return concert;
    },

    /** Seats free/held/sold per section × category, money from the ledger. */
    async report(concertId: number): Promise<ConcertReport> {
      const report = await store.report(concertId);
      if (!report) throw concertNotFound(concertId);
      return report;
    },

    async update(
      concertId: number,
      patch: ConcertPatch,
      audit: AuditContext,
    ): Promise<ConcertDetail> {
      const current = await store.get(concertId);
      if (!current) throw concertNotFound(concertId);
      const change: ConcertChange = {
        title: patch.title,
        description: patch.description,
        showAt: at(patch.showAt),
        saleOpensAt: at(patch.saleOpensAt),
        saleClosesAt: at(patch.saleClosesAt),
        ticketLimit: patch.ticketLimit,
        holdSeconds: patch.holdSeconds,
        refundCutoffHours: patch.refundCutoffHours,
        refundFeePercent: patch.refundFeePercent,
      };
      const showAt = change.showAt ?? new Date(current.showAt);
      if (change.showAt && change.showAt.getTime() <= now().getTime())
        throw invalidSale('showAt', 'The show must be in the future.');
      const problem = saleWindowProblem({
        showAt,
        saleOpensAt: change.saleOpensAt ?? at(current.saleOpensAt ?? undefined) ?? null,
        saleClosesAt: change.saleClosesAt ?? at(current.saleClosesAt ?? undefined) ?? null,
      });
      if (problem) {
        // Moving only the show before the sale's close names the show.
        const field =
          problem.field === 'saleClosesAt' && !patch.saleClosesAt && patch.showAt
            ? 'showAt'
            : problem.field;
        throw invalidSale(field, problem.message);
      }
      if (patch.venueId !== undefined && patch.priceCategories === undefined)
        throw invalidCategories(
          'priceCategories',
          'Another venue has other sections: send the price categories for them too.',
        );
      if (patch.priceCategories !== undefined) {
        const venueId = patch.venueId ?? current.venueId;
        if (venueId === null)
          throw invalidCategories(
            'priceCategories',
            `Concert ${concertId} has no venue (its seats were made directly): send a venueId with the categories.`,
          );
        change.plan = await planOf(venueId, patch.priceCategories);
      }
      const outcome = await store.update(concertId, change, audit);
      if (!outcome.ok) throw refusalError(outcome.refusal, { concertId, venueId: patch.venueId });
      return outcome.value;
    },

    async remove(concertId: number, audit: AuditContext): Promise<void> {
      const outcome = await store.remove(concertId, audit);
      if (!outcome.ok) throw refusalError(outcome.refusal, { concertId });
    },
  };
}

export type CatalogueService = ReturnType<typeof createCatalogueService>;
