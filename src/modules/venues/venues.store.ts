import type { Outcome } from '../../shared/outcome.js';
import type { AuditContext } from '../audit/audit.store.js';
import type { MapSection } from './venues.rules.js';

/** A section without its seats: enough to pick one and read it on its own. */
export interface SectionSummary {
  /** The section in URLs (…/sections/{key}); the same key a concert on the venue gives it. */
  key: string;
  name: string;
  kind: MapSection['kind'];
  /** Places (general admission) or seats. */
  capacity: number;
  rowCount: number;
}

/** One section of a venue's map with every seat listed. */
export interface VenueSection extends SectionSummary {
  venueId: number;
  rows: MapSection['rows'];
}

export interface VenueSummary {
  venueId: number;
  name: string;
  address: string;
  /** Seats of seated sections. */
  seatCount: number;
  /** Places in all: seats and general admission. */
  capacity: number;
  /** A concert uses the venue: its map can no longer change. */
  inUse: boolean;
  sections: SectionSummary[];
  createdAt: string;
  updatedAt: string;
}

/** A venue with its whole map, every seat listed. */
export interface VenueDetail extends Omit<VenueSummary, 'sections'> {
  sections: (MapSection & Pick<SectionSummary, 'key'>)[];
}

export interface VenueChange {
  name?: string;
  address?: string;
  /** A new map replacing the old one (only while no concert uses the venue). */
  sections?: MapSection[];
}

export type VenueRefusal = 'VENUE_NOT_FOUND' | 'VENUE_IN_USE';

/**
 * Venues and their seat maps. Every change is recorded in the audit log in its own transaction
 * (the context says who and in which request).
 */
export interface VenueStore {
  create(
    venue: { name: string; address: string; sections: MapSection[] },
    audit: AuditContext,
  ): Promise<VenueSummary>;
  /** Newest first; `before` pages on by venue id. */
  list(page: { limit: number; before?: number }): Promise<VenueSummary[]>;
  get(venueId: number): Promise<VenueDetail | null>;
  /** The venue's summary: its sections counted, no seat listed. */
  summary(venueId: number): Promise<VenueSummary | null>;
  /** The seats of one section, by its position in the map (0-based), row by row. */
  sectionRows(venueId: number, position: number): Promise<MapSection['rows']>;
  update(
    venueId: number,
    change: VenueChange,
    audit: AuditContext,
  ): Promise<Outcome<VenueSummary, VenueRefusal>>;
}
