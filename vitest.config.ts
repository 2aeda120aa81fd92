import { defineConfig } from 'vitest/config';

// SYFT_SERIALIZE=1 makes every VirtualWorker encode and decode each message, so the
// whole suite doubles as a test of the wire format.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});
