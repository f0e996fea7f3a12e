import { AppError } from '../../shared/errors.js';
import type { AuditContext } from '../audit/audit.store.js';
import { expandSeatMap, type MapSection, type SectionInput } from './venues.rules.js';
import type { VenueDetail, VenueSection, VenueStore, VenueSummary } from './venues.store.js';

/** The stored map of a written one, or the refusal naming the offending section or row. */
function seatMap(sections: SectionInput[]): MapSection[] {
  const result = expandSeatMap(sections);
  if (!result.ok)
    throw new AppError('INVALID_SEAT_MAP', result.problem.message, {
      field: result.problem.field,
    });
  return result.sections;
}

const notFound = (venueId: number) =>
  new AppError('VENUE_NOT_FOUND', `Venue ${venueId} does not exist.`, { field: 'venueId' });

/** Venues and their seat maps (docs/decisions/0033); every change audited by the store. */
export function createVenueService(deps: { store: VenueStore }) {
  const { store } = deps;
  return {
    create(
      venue: { name: string; address: string; sections: SectionInput[] },
      audit: AuditContext,
    ): Promise<VenueSummary> {
      return store.create({ ...venue, sections: seatMap(venue.sections) }, audit);
    },

    list(page: { limit: number; before?: number }): Promise<VenueSummary[]> {
      return store.list(page);
    },

    async get(venueId: number): Promise<VenueDetail> {
      const venue = await store.get(venueId);
      if (!venue) throw notFound(venueId);
      return venue;
    },

    async summary(venueId: number): Promise<VenueSummary> {
      const venue = await store.summary(venueId);
      if (!venue) throw notFound(venueId);
      return venue;
    },

    /** One section with its seats: a large map read a section at a time. */
    async section(venueId: number, key: string): Promise<VenueSection> {
      const venue = await store.summary(venueId);
      if (!venue) throw notFound(venueId);
      const position = venue.sections.findIndex((section) => section.key === key);
      const section = venue.sections[position];
      if (!section)
        throw new AppError('SECTION_NOT_FOUND', `Venue ${venueId} has no section "${key}".`, {
          field: 'sectionKey',
        });
      return { venueId, ...section, rows: await store.sectionRows(venueId, position) };
    },

    async update(
      venueId: number,
      change: { name?: string; address?: string; sections?: SectionInput[] },
      audit: AuditContext,
    ): Promise<VenueSummary> {
      const { sections, ...rest } = change;
      const outcome = await store.update(
        venueId,
        sections === undefined ? rest : { ...rest, sections: seatMap(sections) },
        audit,
      );
      if (outcome.ok) return outcome.value;
      if (outcome.refusal === 'VENUE_NOT_FOUND') throw notFound(venueId);
      throw new AppError(
        'VENUE_IN_USE',
        `A concert uses venue ${venueId}: its seat map can no longer change (its name and address can).`,
        { field: 'sections' },
      );
    },
  };
}

export type VenueService = ReturnType<typeof createVenueService>;
