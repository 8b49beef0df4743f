import { defineProject } from "vitest/config"

export default defineProject({
  test: {
    name: "e4-pg",
    include: ["test/**/*.test.ts"],
    globalSetup: ["test/globalSetup.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000
  }
})
