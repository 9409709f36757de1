import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The default `forks` pool: a native crash in one file is reported instead of killing the run.
    pool: 'forks',
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 30_000,
    // expect.poll waits for something to happen over real sockets and processes; a shared machine can be slow.
    expect: { poll: { timeout: 10_000, interval: 50 } },
    hookTimeout: 20_000,
  },
});
