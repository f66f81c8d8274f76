// The console's build (npm run build): console/ in, dist/console/ out, served
// by `xip serve` from the server's root path. The server's CSP allows scripts
// and styles from its own origin only, so nothing may be inlined into
// index.html: no module-preload polyfill script, no inlined assets.
import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  plugins: [react()],
  logLevel: 'warn',
  build: {
    outDir: fileURLToPath(new URL('../dist/console', import.meta.url)),
    emptyOutDir: true,
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    reportCompressedSize: false,
  },
});
