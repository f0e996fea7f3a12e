import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

/** Every TypeScript file the typecheck and lint see. */
function sources(folder: string): string[] {
  return readdirSync(folder, { withFileTypes: true }).flatMap((entry) => {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' ? [] : sources(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

describe('the optional Kafka client', () => {
  it('is never imported by name, so a clone without it typechecks and lints', () => {
    const files = ['src', 'test', 'bench', 'scripts', 'tools'].flatMap(sources);
    expect(files.length).toBeGreaterThan(50);
    // A static import (or import type) makes tsc and eslint need its types; the adapter loads it
    // with import(name) and declares the part it uses (src/kafka/package.ts).
    const named = /(from|import\s*\(|require\s*\()\s*['"]@confluentinc\/kafka-javascript['"]/;
    expect(files.filter((file) => named.test(readFileSync(file, 'utf8')))).toEqual([]);
  });
});
