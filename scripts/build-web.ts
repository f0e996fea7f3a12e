import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const webRoot = fileURLToPath(new URL('../web', import.meta.url));
const builtPage = join(webRoot, 'dist', 'index.html');

/** The newest modification time among the client's sources (web/ except dist). */
function newestSource(folder: string): number {
  let newest = 0;
  for (const entry of readdirSync(folder, { withFileTypes: true })) {
    if (entry.name === 'dist' && folder === webRoot) continue;
    const path = join(folder, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestSource(path) : statSync(path).mtimeMs);
  }
  return newest;
}

const builtAt = (): number => {
  try {
    return statSync(builtPage).mtimeMs;
  } catch {
    return 0;
  }
};

/**
 * Builds the web client (the buyers' page and the operator console) into web/dist unless it is newer than every source (a few seconds when it
 * is not): `npm start` (prestart) and the test run's global setup call it, so a fresh clone serves
 * the client with no extra command. `--force` builds anyway (`npm run build`).
 */
export async function buildWebClient({ force = false } = {}): Promise<'built' | 'fresh'> {
  if (!force && builtAt() > newestSource(webRoot)) return 'fresh';
  // Vite is loaded only to build: an up-to-date check stays a few stat calls.
  const { build } = await import('vite');
  // The buyers' page first (it empties web/dist), then the console (docs/decisions/0055).
  for (const mode of ['buyer', 'operator'])
    await build({ configFile: join(webRoot, 'vite.config.ts'), mode });
  return 'built';
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const result = await buildWebClient({ force: process.argv.includes('--force') });
  process.stdout.write(
    `web client: ${result === 'built' ? 'built into web/dist' : 'up to date'}\n`,
  );
}
