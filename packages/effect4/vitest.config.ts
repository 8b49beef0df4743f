import { defineConfig } from "vitest/config"

/** The Effect 4 edition's tests: one vitest project per package (vitest 5 reads `test.projects`). */
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "e4-core",
          root: "./core",
          include: ["test/**/*.test.ts"],
          testTimeout: 30_000
        }
      }
    ]
  }
})
