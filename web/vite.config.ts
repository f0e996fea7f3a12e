import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

/**
 * The buyers' web client (docs/decisions/0044): built into web/dist, which the server serves at
 * `/` (src/http/web-client.ts). Relative asset paths so the page works behind a proxy that mounts
 * the service under a path; hashed file names so assets are cached for good.
 */
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: './',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // Everything from this origin: no inlined data: module preloads, no CDN.
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
  },
  logLevel: 'warn',
});
