import { defineConfig } from 'vitest/config';

// Two passes: every test as written, then every test that moves data between virtual workers
// again with SYFT_SERIALIZE=1, which makes each VirtualWorker encode and decode every message —
// the whole suite doubles as a test of the wire format.
const common = {
  setupFiles: ['test/setup.ts'],
  testTimeout: 180_000,
  hookTimeout: 180_000,
  pool: 'forks' as const,
};

export default defineConfig({
  test: {
    projects: [
      { test: { ...common, name: 'default', include: ['test/**/*.test.ts'], exclude: ['test/browser/**', '**/node_modules/**'] } },
      {
        test: {
          ...common,
          name: 'serialize',
          env: { SYFT_SERIALIZE: '1' },
          include: ['test/{tensor,workers,nn,mpc,thread,data}/**/*.test.ts', 'test/tutorials/0[1-6]*.test.ts', 'test/readme.test.ts'],
        },
      },
    ],
  },
});
