import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Broker suites start real processes; give them room, but every probe has its own deadline.
    testTimeout: 120_000,
    hookTimeout: 180_000,
    pool: "forks",
    // Two cores: real brokers plus parallel test files would starve each other.
    maxWorkers: 2,
  },
});
