import { readFileSync } from 'node:fs';

/**
 * The Lua sources live beside this module (src/redis/scripts/*.lua) and are read relative to it,
 * so the same code works from src (tsx) and from dist once the build copies the folder.
 */
const folder = new URL('./scripts/', import.meta.url);

/** One script's source: the named files joined in order (a shared prelude first, then the body). */
export function luaSource(...files: string[]): string {
  return files.map((file) => readFileSync(new URL(`${file}.lua`, folder), 'utf8')).join('\n');
}
