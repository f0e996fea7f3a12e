import { readFileSync } from 'node:fs';
import type { RedisClient } from './client.js';

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

/**
 * Defines the command `name` for a script whose first argument is its key count (a variable
 * number of keys), sent on its own. ioredis auto-pipelines a call with the calls bound for the
 * primary of its first argument's slot — for such a script a number, not a key — so on a Redis
 * Cluster the call joined another primary's pipeline and failed it whole, with every request in
 * it (test/integration/redis-cluster.test.ts). Sent alone, the call goes where its keys are.
 */
export function defineKeyCountedScript(redis: RedisClient, name: string, lua: string): void {
  if (name in redis) return;
  redis.defineCommand(name, { lua });
  redis.options.autoPipeliningIgnoredCommands = [
    ...(redis.options.autoPipeliningIgnoredCommands ?? []),
    name,
  ];
}
