import { defineConfig } from 'vitest/config';

// The browser suite (`npm run test:browser`): test/browser/, driving the machine's headless
// Chromium. Kept out of `npm test` (it needs Chromium); .ci/run installs Chromium and runs both.
export default defineConfig({
  test: {
    name: 'browser',
    include: ['test/browser/**/*.test.ts'],
    setupFiles: ['test/setup.ts'],
    testTimeout: 180_000,
    hookTimeout: 180_000,
    pool: 'forks',
    fileParallelism: false,
  },
});
