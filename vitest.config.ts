import { defineConfig } from 'vitest/config';

// Integration tests share one Redis and one PostgreSQL; each test isolates itself with its own
// queue prefix and schema, but running files one at a time keeps timings honest on 2 cores.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    reporters: ['default'],
  },
});
