import { readFileSync } from 'node:fs';

/**
 * Lua sources are read relative to the module that owns them, so the same code works from src
 * (tsx) and from dist once the build copies the folder (package.json "build").
 */
const folder = new URL('./scripts/', import.meta.url);

/** One script's source from `folder`: the named files joined in order (a shared prelude first, then the body). */
export function luaSourceIn(folder: URL, ...files: string[]): string {
  return files.map((file) => readFileSync(new URL(`${file}.lua`, folder), 'utf8')).join('\n');
}

/** One script's source from src/redis/scripts/. */
export const luaSource = (...files: string[]): string => luaSourceIn(folder, ...files);
