/**
 * Builds the SMART timeline app the engine serves at `/app/`: two pages (the launch page the EHR
 * opens, and the app it redirects back to), hashed assets, and fhirclient's browser build without
 * the polyfills every browser that can run the app already has. A third page, the analyst console
 * (console.html), is served by the engine at `/console/` with its assets under `/app/assets/`.
 */
import react from '@vitejs/plugin-react';
import { defineConfig, type Plugin } from 'vite';

const here = new URL('.', import.meta.url);
const file = (relative: string): string => decodeURIComponent(new URL(relative, here).pathname);

/**
 * codemirror-json-schema renders hover and lint text through its `utils/markdown`, which pulls in
 * markdown-it and Shiki (WebAssembly) at import; the console's shim escapes the text instead.
 */
function schemaMarkdownShim(): Plugin {
  return {
    name: 'schema-markdown-shim',
    enforce: 'pre',
    resolveId(source, importer) {
      if (importer?.includes('codemirror-json-schema') === true && /\/utils\/markdown(\.js)?$/.test(source)) {
        return file('src/shims/schema-markdown.ts');
      }
      return null;
    },
  };
}

export default defineConfig({
  root: file('.'),
  base: '/app/',
  plugins: [schemaMarkdownShim(), react()],
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
    // The mapping workbench's chunk (CodeMirror, the JSON Schema tooling and jsondiffpatch, about
    // 730 kB, 232 kB gzipped) loads only when an analyst opens the workbench; the timeline app and
    // the rest of the console stay far below this.
    chunkSizeWarningLimit: 800,
    target: 'es2022',
    rolldownOptions: {
      input: { index: file('index.html'), launch: file('launch.html'), console: file('console.html') },
    },
  },
  server: {
    // `vite smart-app` for development against an engine on :8080.
    proxy: {
      '/auth': 'http://localhost:8080',
      '/fhir': 'http://localhost:8080',
      '/app/config.json': 'http://localhost:8080',
      '/api': 'http://localhost:8080',
      '/console/auth': 'http://localhost:8080',
    },
  },
});
