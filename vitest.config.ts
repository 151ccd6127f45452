import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    // Generating fixture models and running onnxruntime sessions takes seconds, not milliseconds.
    testTimeout: 120_000,
    hookTimeout: 300_000,
    // Two cores: run test files in two forks so native modules (sharp, onnxruntime, sqlite) stay isolated.
    pool: 'forks',
    maxWorkers: 2,
  },
});
