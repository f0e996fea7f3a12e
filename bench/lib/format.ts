/** How numbers and tables are written: the report's cells, its prose, and the live display. */
import type { Usage } from './results.js';
import type { LatencySummary } from './stats.js';

/** A table cell in milliseconds: three significant digits below 100, none after the point above. */
export const ms = (value: number): string =>
  value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(2);

/** Milliseconds in a sentence (the verdicts): 3 significant digits, no noise. */
export const msText = (value: number): string => `${Number(value.toPrecision(3))} ms`;

export const count = (value: number): string => Math.round(value).toLocaleString('en-US');

export const times = (value: number | null): string =>
  value === null ? '–' : `${value.toFixed(2)}×`;

/** "key: n, key: n", or `empty` when there is nothing to list. */
export const tally = (counts: Record<string, number>, empty = '0'): string =>
  Object.entries(counts)
    .map(([key, value]) => `${key}: ${value}`)
    .join(', ') || empty;

/** A column of a markdown table: its header and how a row fills its cell. */
export type Column<R> = [header: string, cell: (row: R) => string];

export function table<R>(rows: readonly R[], columns: Column<R>[]): string {
  const line = (cells: string[]) =>
    `| ${cells.map((cell) => cell.replace(/\|/g, '\\|')).join(' | ')} |`;
  return [
    line(columns.map(([header]) => header)),
    line(columns.map(() => '---')),
    ...rows.map((row) => line(columns.map(([, cell]) => cell(row)))),
  ].join('\n');
}

/** A mode, or the bare run measured right before one (see `Base.pairedWith`). */
export const targetColumn: Column<{ target: string; pairedWith?: string }> = [
  'target',
  (row) =>
    row.target === 'bare' && row.pairedWith !== undefined
      ? `bare (before ${row.pairedWith})`
      : row.target,
];

/** "p50 / p99" of a latency summary, in a sentence's milliseconds. */
export const p50p99 = (latency: LatencySummary): string =>
  `${msText(latency.p50)} / ${msText(latency.p99)}`;

/** A cell only a mode has: the bare route's row shows a dash. */
export const modeOnly =
  <R extends { target: string }>(cell: (row: R) => string) =>
  (row: R): string =>
    row.target === 'bare' ? '–' : cell(row);

/** p50, p90, p95, p99 and max, in ms. */
export const latencyColumns = <R>(latency: (row: R) => LatencySummary): Column<R>[] =>
  (['p50', 'p90', 'p95', 'p99', 'max'] as const).map((key) => [
    key,
    (row) => ms(latency(row)[key]),
  ]);

/** Share of one core the server(s) and the generator used, and how busy the whole machine was. */
export const cpuColumn = <R>(
  usage: (row: R) => Usage | undefined,
  header = 'CPU server / generator / machine',
): Column<R> => [
  header,
  (row) => {
    const used = usage(row);
    if (!used) return '–';
    const share = (seconds: number | null) =>
      seconds === null ? '?' : `${Math.round((seconds / used.seconds) * 100)}%`;
    const machine = used.machineBusy === null ? '?' : `${Math.round(used.machineBusy * 100)}%`;
    return `${share(used.serverCpuSeconds)} / ${share(used.generatorCpuSeconds)} / ${machine}`;
  },
];

/** A report section: its heading, what it measured, and its tables and notes. */
export const section = (title: string, intro: string, ...parts: string[]): string =>
  [`### ${title}`, '', intro, '', ...parts].join('\n');
