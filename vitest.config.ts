import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// Tests import workspace packages from source, so `npm test` needs no build step.
const src = (pkg: string) => fileURLToPath(new URL(`./packages/${pkg}/src/index.ts`, import.meta.url));
const entry = (path: string) => fileURLToPath(new URL(`./packages/${path}`, import.meta.url));

export default defineConfig({
  resolve: {
    alias: {
      '@junction/core': src('core'),
      // Subpath entry points before their package's own entry, which would otherwise take them too.
      '@junction/client/auth': entry('client/src/auth/index.ts'),
      '@junction/client/mesh': entry('client/src/mesh/index.ts'),
      '@junction/client/pds': entry('client/src/pds/index.ts'),
      '@junction/client': src('client'),
      '@junction/sandbox': src('sandbox'),
      '@junction/hub/vocabulary': entry('hub/src/vocabulary.ts'),
      '@junction/hub': src('hub'),
      '@junction/cli': src('cli'),
    },
  },
  test: {
    environment: 'node',
    reporters: ['default', './tools/summary-reporter.ts'],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    // Most test files wait on databases, child processes and a browser rather than the CPU, so two
    // workers even on a 2-core machine, where vitest's default (cores − 1) runs one: the suite took
    // 564 s with one and 341–366 s with two, here, on CI's kind of machine.
    maxWorkers: Math.max(2, availableParallelism() - 1),
    projects: [
      { extends: true, test: { name: 'packages', include: ['packages/*/src/**/*.test.ts'] } },
      {
        // The console in headless Chromium against `junction start`; its global setup builds the
        // console bundle when it is missing or stale (only when one of these tests is queued).
        extends: true,
        test: {
          name: 'console-e2e',
          include: ['packages/console/e2e/**/*.test.ts'],
          globalSetup: ['packages/console/e2e/global-setup.ts'],
          testTimeout: 90_000,
          hookTimeout: 90_000,
        },
      },
    ],
  },
});
