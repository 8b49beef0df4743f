import { defineConfig } from "vitest/config"

/**
 * The engine's tests on their own, for Stryker (`npm run mutation`): the same tests as the
 * workspace's "engine" project, without the other packages' projects.
 */
export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 30_000
  }
})
