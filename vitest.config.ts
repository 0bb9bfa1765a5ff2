import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    conditions: ['aio-connector-source'],
  },
  ssr: {
    resolve: {
      conditions: ['aio-connector-source'],
    },
  },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'examples/*/test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    reporters: ['default'],
    typecheck: {
      enabled: true,
      include: ['packages/*/test/**/*.test-d.ts'],
      tsconfig: './tsconfig.check.json',
    },
  },
});
