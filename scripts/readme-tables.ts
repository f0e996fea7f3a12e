/**
 * The README's configuration and error-code tables, generated from their single sources
 * (src/config.ts and src/shared/errors.ts). `npm run readme:tables` rewrites them in README.md;
 * test/unit/readme.test.ts fails when the README and the code disagree.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { configSchema } from '../src/config.js';
import { errorCatalog } from '../src/shared/errors.js';

const cell = (text: string) => text.replaceAll('|', '\\|');

export function configTable(): string {
  const rows = Object.entries(configSchema.properties).map(([name, schema]) => {
    const { default: fallback, description } = schema as {
      default?: unknown;
      description?: string;
    };
    const shown = fallback === '' ? '(empty)' : `\`${String(fallback)}\``;
    return `| \`${name}\` | ${shown} | ${cell(description ?? '')} |`;
  });
  return ['| variable | default | meaning |', '|---|---|---|', ...rows].join('\n');
}

export function errorTable(): string {
  const rows = Object.entries(errorCatalog)
    .sort(([a, x], [b, y]) => x.status - y.status || a.localeCompare(b))
    .map(([code, { status, description }]) => `| ${status} | \`${code}\` | ${cell(description)} |`);
  return ['| status | code | meaning |', '|---|---|---|', ...rows].join('\n');
}

export function renderReadme(readme: string): string {
  const replace = (text: string, marker: string, table: string) =>
    text.replace(
      new RegExp(`(<!-- ${marker} -->)[\\s\\S]*?(<!-- /${marker} -->)`),
      `$1\n${table}\n$2`,
    );
  return replace(replace(readme, 'config-table', configTable()), 'error-table', errorTable());
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const path = new URL('../README.md', import.meta.url);
  writeFileSync(path, renderReadme(readFileSync(path, 'utf8')));
  process.stdout.write('README.md tables updated\n');
}
