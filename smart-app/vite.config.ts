/**
 * Builds the SMART timeline app the engine serves at `/app/`: two pages (the launch page the EHR
 * opens, and the app it redirects back to), hashed assets, and fhirclient's browser build without
 * the polyfills every browser that can run the app already has.
 */
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const here = new URL('.', import.meta.url);
const file = (relative: string): string => decodeURIComponent(new URL(relative, here).pathname);

export default defineConfig({
  root: file('.'),
  base: '/app/',
  plugins: [react()],
  define: {
    // fhirclient's "pure" build: use the browser's fetch and AbortController instead of bundling
    // cross-fetch and a polyfill.
    FHIRCLIENT_PURE: 'true',
  },
  resolve: {
    alias: {
      // fhirclient falls back to this polyfill only where `globalThis.crypto` is missing, which a
      // secure context (required for PKCE anyway) never is; the polyfill is most of its weight.
      'isomorphic-webcrypto': file('src/shims/webcrypto.ts'),
      'cross-fetch': file('src/shims/fetch.ts'),
    },
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    rolldownOptions: {
      input: { index: file('index.html'), launch: file('launch.html') },
    },
  },
  server: {
    // `vite smart-app` for development against an engine on :8080.
    proxy: {
      '/auth': 'http://localhost:8080',
      '/fhir': 'http://localhost:8080',
      '/app/config.json': 'http://localhost:8080',
    },
  },
});
