/**
 * A venue's seat map as an operator writes it, and the rules that turn it into the stored map
 * (docs/decisions/0033). Pure: no I/O, unit-tested.
 */

/** Most seats and general-admission places one venue may have (a large stadium). */
export const MAX_VENUE_PLACES = 100_000;

/** How a counted row's seats are labelled unless its section says otherwise: "A-12". */
export const DEFAULT_LABELS = '{row}-{seat}';

export interface SeatInput {
  label: string;
}

/** A row: its seats listed (explicit), or counted and numbered (compact). */
export interface RowInput {
  name: string;
  /** The seats, or how many there are (numbered `start`, `start + step`, …). */
  seats: number | SeatInput[];
  start?: number;
  step?: number;
}

export interface SectionInput {
  name: string;
  kind?: 'seated' | 'general-admission';
  /** General admission: the places sold. */
  capacity?: number;
  rows?: RowInput[];
  /** Labels of counted rows: {section}, {row} and {seat} replaced; default "{row}-{seat}". */
  labels?: string;
}

/** The stored map: every seat listed, in map order. */
export interface MapSection {
  name: string;
  kind: 'seated' | 'general-admission';
  /** General admission: its places; seated: its number of seats. */
  capacity: number;
  rows: { name: string; labels: string[] }[];
}

/** What is wrong with a map, and where (`sections[2].rows[5]`). */
export interface MapProblem {
  field: string;
  message: string;
}

export type MapResult = { ok: true; sections: MapSection[] } | { ok: false; problem: MapProblem };

const label = (pattern: string, section: string, row: string, seat: number): string =>
  pattern
    .replaceAll('{section}', section)
    .replaceAll('{row}', row)
    .replaceAll('{seat}', String(seat));

/**
 * Expands and checks a seat map: names unique (sections in the venue, rows in a section), labels
 * unique in their section, general admission with a capacity and no rows, seated sections with
 * rows, at most MAX_VENUE_PLACES places in all. The first problem found is the answer.
 */
export function expandSeatMap(input: SectionInput[]): MapResult {
  const sections: MapSection[] = [];
  const sectionNames = new Set<string>();
  let places = 0;
  const refuse = (field: string, message: string): MapResult => ({
    ok: false,
    problem: { field, message },
  });
  for (const [s, section] of input.entries()) {
    const at = `sections[${s}]`;
    if (sectionNames.has(section.name))
      return refuse(`${at}.name`, `Section "${section.name}" appears twice in the map.`);
    sectionNames.add(section.name);
    const kind = section.kind ?? 'seated';
    if (kind === 'general-admission') {
      if (section.capacity === undefined)
        return refuse(
          `${at}.capacity`,
          `General-admission section "${section.name}" needs a capacity.`,
        );
      if (section.rows !== undefined || section.labels !== undefined)
        return refuse(at, `General-admission section "${section.name}" has no rows or labels.`);
      places += section.capacity;
      if (places > MAX_VENUE_PLACES)
        return refuse(at, `The map has more than ${MAX_VENUE_PLACES} places.`);
      sections.push({ name: section.name, kind, capacity: section.capacity, rows: [] });
      continue;
    }
    if (section.capacity !== undefined)
      return refuse(
        `${at}.capacity`,
        `Seated section "${section.name}" counts its seats: give rows, not a capacity.`,
      );
    if (!section.rows || section.rows.length === 0)
      return refuse(`${at}.rows`, `Seated section "${section.name}" needs at least one row.`);
    const pattern = section.labels ?? DEFAULT_LABELS;
    if (section.labels !== undefined && !pattern.includes('{seat}'))
      return refuse(
        `${at}.labels`,
        'A label pattern must contain {seat}, or every seat of a row would share one label.',
      );
    const rowNames = new Set<string>();
    const labels = new Set<string>();
    const rows: MapSection['rows'] = [];
    for (const [r, row] of section.rows.entries()) {
      const rowAt = `${at}.rows[${r}]`;
      if (rowNames.has(row.name))
        return refuse(
          `${rowAt}.name`,
          `Row "${row.name}" appears twice in section "${section.name}".`,
        );
      rowNames.add(row.name);
      let rowLabels: string[];
      if (typeof row.seats === 'number') {
        const start = row.start ?? 1;
        const step = row.step ?? 1;
        rowLabels = Array.from({ length: row.seats }, (_, i) =>
          label(pattern, section.name, row.name, start + i * step),
        );
      } else {
        if (row.start !== undefined || row.step !== undefined)
          return refuse(
            rowAt,
            `Row "${row.name}" lists its seats: start and step number a counted row only.`,
          );
        rowLabels = row.seats.map((seat) => seat.label);
      }
      places += rowLabels.length;
      if (places > MAX_VENUE_PLACES)
        return refuse(rowAt, `The map has more than ${MAX_VENUE_PLACES} places.`);
      for (const [k, seatLabel] of rowLabels.entries()) {
        if (labels.has(seatLabel)) {
          const field = typeof row.seats === 'number' ? rowAt : `${rowAt}.seats[${k}]`;
          return refuse(
            field,
            `Seat label "${seatLabel}" appears twice in section "${section.name}".`,
          );
        }
        labels.add(seatLabel);
      }
      rows.push({ name: row.name, labels: rowLabels });
    }
    sections.push({ name: section.name, kind, capacity: labels.size, rows });
  }
  return { ok: true, sections };
}

/** Seats of seated sections, and places in all (seats and general admission). */
export function mapCounts(sections: Pick<MapSection, 'kind' | 'capacity'>[]) {
  let seats = 0;
  let places = 0;
  for (const section of sections) {
    places += section.capacity;
    if (section.kind === 'seated') seats += section.capacity;
  }
  return { seatCount: seats, capacity: places };
}
