import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { configTable, errorTable, renderReadme } from '../../scripts/readme-tables.js';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

describe('README', () => {
  it('lists every environment variable with its real default (run `npm run readme:tables` after changing src/config.ts)', () => {
    expect(readme).toContain(configTable());
  });

  it('lists every error code with its real status (run `npm run readme:tables` after changing src/shared/errors.ts)', () => {
    expect(readme).toContain(errorTable());
    expect(renderReadme(readme)).toBe(readme);
  });

  it('gives the two set-up commands that .ci/run and the package scripts really use', () => {
    const ci = readFileSync(new URL('../../.ci/run', import.meta.url), 'utf8');
    const scripts = (
      JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
        scripts: Record<string, string>;
      }
    ).scripts;
    expect(readme).toContain('npm install && npm start');
    expect(readme).toContain('npm install && npm test');
    expect(ci).toContain('npm test');
    expect(scripts.start).toBeDefined();
    expect(scripts.test).toBeDefined();
  });
});
