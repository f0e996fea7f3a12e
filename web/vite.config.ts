import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

/** The pages, each built on its own (`--mode buyer`, then `--mode operator`). */
const pages = {
  buyer: 'index.html',
  operator: 'operator/index.html',
} as const;

/**
 * The buyers' web client (docs/decisions/0044) and the operator console (0055), built into
 * web/dist, which the server serves at `/` and `/operator/` (src/http/web-client.ts). Two builds
 * of one config, not two entries of one build: entries would share lit-html as a third file, and
 * the buyers' page, the one a sale's crowd opens at once, would load two scripts instead of one
 * (+487 B gzip, measured in 0055). The buyer build empties web/dist; the console's adds to it.
 * Relative asset paths so the pages work behind a proxy that mounts the service under a path;
 * hashed file names so assets are cached for good.
 */
export default defineConfig(({ mode }) => {
  const page = mode === 'operator' ? 'operator' : 'buyer';
  return {
    root: fileURLToPath(new URL('.', import.meta.url)),
    base: './',
    // Always lit-html's production build: the test run's global setup builds with NODE_ENV=test,
    // which would otherwise resolve the `development` export condition (40 KB instead of 32 KB)
    // and leave that build in web/dist for the next `npm start` (docs/decisions/0055).
    resolve: { conditions: ['module', 'browser', 'production'] },
    build: {
      outDir: 'dist',
      emptyOutDir: page === 'buyer',
      target: 'es2022',
      // Everything from this origin: no inlined data: module preloads, no CDN.
      modulePreload: { polyfill: false },
      assetsInlineLimit: 0,
      rollupOptions: {
        // The buyers' assets keep their names (index-<hash>.js) from before the console.
        input: {
          [page === 'buyer' ? 'index' : 'operator']: fileURLToPath(
            new URL(pages[page], import.meta.url),
          ),
        },
      },
    },
    logLevel: 'warn',
  };
});
