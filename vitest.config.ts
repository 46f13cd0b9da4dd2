import { defineConfig } from 'vitest/config';

// Integration tests share one Redis and one PostgreSQL; each test isolates itself with its own
// queue prefix and schema, but running files one at a time keeps timings honest on 2 cores.
export default defineConfig({
  test: {
    // smart-app/test: the SMART app's logic and component tests (components opt into happy-dom
    // per file), next to the app they test so its tsconfig (DOM, JSX) type-checks them.
    include: ['test/**/*.test.ts', 'smart-app/test/**/*.test.{ts,tsx}'],
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    reporters: ['default'],
  },
});
