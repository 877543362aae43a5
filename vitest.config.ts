import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // native addons and network namespaces: one process per file, no shared threads
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // integration files build namespaces; keep the 2-core machine from thrashing
    maxWorkers: 2,
  },
});
