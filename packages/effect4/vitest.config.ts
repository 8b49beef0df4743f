import { defineConfig } from "vitest/config"

/** The Effect 4 edition's tests: every package's own `vitest.config.ts` is a project (vitest 5 reads `test.projects`). */
export default defineConfig({
  test: {
    projects: ["*/vitest.config.ts"]
  }
})
